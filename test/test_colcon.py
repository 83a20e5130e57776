"""The package as a ROS 2 workspace sees it: colcon builds it as ament_python, installs the node, launch
file, config and shipped model where ros2 run/launch look, and colcon test runs its tests."""
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO

COLCON = Path(sys.executable).with_name("colcon")


def colcon(workspace: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, AMENT_PREFIX_PATH=sys.prefix, HF_HUB_OFFLINE="1")
    return subprocess.run([str(COLCON), "--log-base", "log", *args, "--base-paths", str(REPO), "--build-base",
                           "build", "--install-base", "install"], cwd=workspace, env=env, capture_output=True,
                          text=True, timeout=600)


def test_colcon_builds_and_tests_the_package(tmp_path):
    build = colcon(tmp_path, "build")
    assert build.returncode == 0, build.stdout + build.stderr
    log = (tmp_path / "log" / "latest_build" / "logger_all.log").read_text()
    assert "with build type 'ament_python'" in log  # not silently demoted to a plain python package
    install = tmp_path / "install" / "lts_ros"
    for path in ("lib/lts_ros/lts_node", "lib/lts_ros/lts", "share/lts_ros/package.xml",
                 "share/lts_ros/launch/lts.launch.py", "share/lts_ros/config/lts.yaml",
                 "share/lts_ros/config/fastdds.xml", "share/lts_ros/models/lts_edge_tabletop.safetensors",
                 "share/ament_index/resource_index/packages/lts_ros"):
        assert (install / path).is_file(), path
    tested = colcon(tmp_path, "test", "--pytest-args", "test/test_ros_launch.py")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    result = subprocess.run([str(COLCON), "test-result", "--test-result-base", "build"], cwd=tmp_path,
                            capture_output=True, text=True)
    summary = re.search(r"Summary: (\d+) tests, 0 errors, 0 failures", result.stdout)
    assert result.returncode == 0 and summary and int(summary.group(1)) > 0, result.stdout
