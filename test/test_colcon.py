"""The package as a ROS 2 workspace sees it: colcon builds it as ament_python, installs the node, launch
file, config and shipped model where ros2 run/launch look, and colcon test runs its tests. A read-only install
still runs: the shipped model's ONNX export goes to $ROS_HOME/lts_ros, once."""
import errno
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO

COLCON = Path(sys.executable).with_name("colcon")
READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}


def colcon(workspace: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, AMENT_PREFIX_PATH=sys.prefix, HF_HUB_OFFLINE="1")
    return subprocess.run([str(COLCON), "--log-base", "log", *args, "--base-paths", str(REPO), "--build-base",
                           "build", "--install-base", "install"], cwd=workspace, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A colcon workspace with the package built and installed (once for this module)."""
    workspace = tmp_path_factory.mktemp("colcon")
    build = colcon(workspace, "build")
    assert build.returncode == 0, build.stdout + build.stderr
    return workspace


def test_colcon_builds_and_tests_the_package(workspace):
    log = (workspace / "log" / "latest_build" / "logger_all.log").read_text()
    assert "with build type 'ament_python'" in log  # not silently demoted to a plain python package
    install = workspace / "install" / "lts_ros"
    for path in ("lib/lts_ros/lts_node", "lib/lts_ros/lts", "share/lts_ros/package.xml",
                 "share/lts_ros/launch/lts.launch.py", "share/lts_ros/config/lts.yaml",
                 "share/lts_ros/config/fastdds.xml", "share/lts_ros/models/lts_edge_tabletop.safetensors",
                 "share/ament_index/resource_index/packages/lts_ros"):
        assert (install / path).is_file(), path
    tested = colcon(workspace, "test", "--pytest-args", "test/test_ros_launch.py")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    result = subprocess.run([str(COLCON), "test-result", "--test-result-base", "build"], cwd=workspace,
                            capture_output=True, text=True)
    summary = re.search(r"Summary: (\d+) tests, 0 errors, 0 failures", result.stdout)
    assert result.returncode == 0 and summary and int(summary.group(1)) > 0, result.stdout


# Run in a fresh process from the installed package, as a node would be: probes that share/ cannot be written,
# builds the segmenter for the installed model, segments one frame, prints what happened as JSON.
LOAD_INSTALLED_MODEL = """
import json, logging, sys, time
from pathlib import Path
logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
checkpoint = Path(sys.argv[1])
try:
    (checkpoint.parent / "write-probe").touch()
    write_errno = 0
except OSError as exc:
    write_errno = exc.errno
import numpy as np
import lts_ros
from lts_ros.runtime import Segmenter
start = time.perf_counter()
segmenter = Segmenter.from_checkpoint(checkpoint, backend="onnxruntime")
seconds = time.perf_counter() - start
segmenter.set_command("the red mug")
segmenter.segment(np.zeros((48, 64, 3), np.uint8))
print(json.dumps({"package": lts_ros.__file__, "cwd": str(Path.cwd()), "write_errno": write_errno,
                  "backend": segmenter.backend.name, "seconds": seconds}))
"""


def read_only_runner(directory: Path) -> list[str]:
    """A command prefix that runs its command with ``directory`` read-only, even for root: as root, a private
    mount namespace with a read-only bind mount of it (EROFS, as a read-only image gives; nothing outside the
    command sees it); as another user, mode bits (the caller's ``restore_modes`` undoes them)."""
    if os.geteuid() != 0:
        subprocess.run(["chmod", "-R", "a-w", str(directory)], check=True)
        return []
    remount = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    prefix = ["unshare", "--mount", "--propagation", "private", "sh", "-c", remount, str(directory)]
    if shutil.which("unshare") is None or subprocess.run([*prefix, "true"], capture_output=True).returncode != 0:
        pytest.skip("no way to make a directory read-only for root here (unshare + mount -o remount,ro)")
    return prefix


@pytest.fixture
def restore_modes(workspace):
    yield
    if os.geteuid() != 0:
        subprocess.run(["chmod", "-R", "u+w", str(workspace / "install")], check=True)


def test_a_read_only_install_exports_to_ros_home_once(workspace, tmp_path, restore_modes):
    install = workspace / "install" / "lts_ros"
    share = install / "share" / "lts_ros"
    checkpoint = share / "models" / "lts_edge_tabletop.safetensors"
    site_packages = next((install / "lib").glob("python3*/site-packages"))
    ros_home = tmp_path / "ros_home"
    env = dict(os.environ, ROS_HOME=str(ros_home), HF_HUB_OFFLINE="1", PYTHONPATH=str(site_packages),
               AMENT_PREFIX_PATH=f"{install}{os.pathsep}{sys.prefix}")
    prefix = read_only_runner(share)

    def run() -> tuple[dict, str, float]:
        start = time.perf_counter()
        done = subprocess.run([*prefix, sys.executable, "-c", LOAD_INSTALLED_MODEL, str(checkpoint)], cwd="/",
                              env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr, time.perf_counter() - start

    first, log, first_s = run()
    assert first["write_errno"] in READ_ONLY_ERRNOS, first  # share/ really is read-only for this process
    assert first["package"].startswith(str(site_packages)) and first["cwd"] == "/"
    assert first["backend"] == "onnxruntime"
    exports = list((ros_home / "lts_ros" / "onnx").glob("*/model.json"))
    assert len(exports) == 1 and exports[0].parent.name.startswith("lts_edge_tabletop-onnx-"), exports
    assert "is read-only: using" in log and "exporting" in log, log
    assert not (share / "models" / "lts_edge_tabletop-onnx").exists()
    stamp = exports[0].stat().st_mtime_ns

    second, log, second_s = run()
    assert "exporting" not in log, log  # reused, not exported again
    assert exports[0].stat().st_mtime_ns == stamp and list((ros_home / "lts_ros" / "onnx").iterdir()) == \
        [exports[0].parent]
    print(f"\nread-only install: first run {first_s:.1f} s (from_checkpoint {first['seconds']:.1f} s), "
          f"second {second_s:.1f} s (from_checkpoint {second['seconds']:.1f} s)")
