"""Caches a packaged install can write (cache_root.py): relative configured dirs under $ROS_HOME/lts_ros, read-only
dirs read where they are and written under the cache root instead, for ONNX exports and TensorRT engines.

"Read-only" has to hold for root, which writes to a 0o555 dir: as root these tests make a dir immutable
(``chattr +i``: EPERM for everyone); as another user, mode bits do. Where neither works, they skip."""
import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lts_ros.artifacts.cache_root import (cache_root, default_engine_dir, in_cache_root, is_read_only, redirected,
                                writable_or_redirected)
from lts_ros.errors import LtsError
from lts_ros.artifacts.engine_cache import IncompatibleEngine, load_or_build, open_engines
from lts_ros.artifacts.export_manifest import read_manifest
from lts_ros.runtime.compile.onnx_export import default_export_dir, ensure_export, export_onnx
from lts_ros.runtime import Segmenter
from conftest import tiny_checkpoint
from test_engine_manifest import ORIN, FakeBuilder, write_export

HASHED = re.compile(r"-[0-9a-f]{8}$")


def _freeze(path, on: bool) -> bool:
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            return False
        return subprocess.run(["chattr", "-R", "+i" if on else "-i", str(path)], capture_output=True).returncode == 0
    for dirpath, _, files in os.walk(path):
        for name in [dirpath, *(os.path.join(dirpath, f) for f in files)]:
            os.chmod(name, os.stat(name).st_mode & ~0o222 if on else os.stat(name).st_mode | 0o200)
    return True


@pytest.fixture
def freeze():
    """``freeze(path)`` makes ``path`` and all below it unwritable, even for root, until the test ends."""
    frozen = []

    def make_read_only(path):
        if not _freeze(path, True):
            pytest.skip("cannot make a directory read-only here (chattr +i failed)")
        frozen.append(path)
        try:
            (path / ".probe").touch()
        except PermissionError:
            return path
        pytest.skip(f"{path} is still writable after freezing it")

    yield make_read_only
    for path in frozen:
        _freeze(path, False)


@pytest.fixture(autouse=True)
def ros_home(tmp_path, monkeypatch):
    home = tmp_path / "ros_home"
    monkeypatch.setenv("ROS_HOME", str(home))
    return home


def test_the_cache_root_is_ros_home_or_dot_ros(ros_home, tmp_path, monkeypatch):
    assert cache_root() == ros_home / "lts_ros"
    monkeypatch.delenv("ROS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert cache_root() == tmp_path / "user" / ".ros" / "lts_ros"
    monkeypatch.setenv("ROS_HOME", "~/robot")
    assert cache_root() == tmp_path / "user" / "robot" / "lts_ros"


def test_relative_configured_dirs_are_under_the_cache_root(ros_home, tmp_path, monkeypatch):
    monkeypatch.chdir("/")  # as under systemd: the working directory has no say
    assert in_cache_root("engines") == ros_home / "lts_ros" / "engines" == default_engine_dir()
    assert in_cache_root("robot/onnx") == ros_home / "lts_ros" / "robot" / "onnx"
    assert in_cache_root(tmp_path / "abs") == tmp_path / "abs"
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert in_cache_root("~/engines") == tmp_path / "user" / "engines"


def test_a_writable_dir_is_used_as_is_and_created(tmp_path):
    target = tmp_path / "new" / "engines"
    assert not is_read_only(target) and target.is_dir() and not any(target.iterdir())  # the probe file is gone
    assert writable_or_redirected(target, "engines") == target


def test_a_read_only_dir_is_redirected_by_name_and_path_hash(freeze, ros_home, tmp_path, caplog):
    first, second = tmp_path / "a" / "engines", tmp_path / "b" / "engines"
    first.mkdir(parents=True), second.mkdir(parents=True)
    freeze(tmp_path / "a"), freeze(tmp_path / "b")
    assert is_read_only(first) and is_read_only(first / "missing" / "sub")
    with caplog.at_level(logging.WARNING, logger="lts_ros.artifacts.cache_root"):
        a, b = writable_or_redirected(first, "engines"), writable_or_redirected(second, "engines")
    assert a.parent == b.parent == ros_home / "lts_ros" / "engines" and a != b
    assert a.name.startswith("engines-") and HASHED.search(a.name) and a == redirected(first, "engines")
    assert f"{first} is read-only: using {a} instead" in caplog.text
    assert not a.exists()  # created by whoever writes there


def test_a_file_in_the_way_is_not_read_only(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert not is_read_only(blocker / "onnx")  # the write that follows reports it, no silent redirect
    assert writable_or_redirected(blocker / "onnx", "onnx") == blocker / "onnx"


def test_a_read_only_cache_root_is_not_redirected_into_itself(freeze, ros_home):
    ros_home.mkdir()
    freeze(ros_home)
    assert writable_or_redirected(default_engine_dir(), "engines") == default_engine_dir()


@pytest.mark.skipif(os.geteuid() != 0, reason="root only")
def test_mode_bits_do_not_make_a_dir_read_only_for_root(tmp_path):
    target = tmp_path / "r-x"
    target.mkdir(mode=0o555)
    assert not is_read_only(target)  # root does write there: no reason to redirect


# ONNX exports (a tiny random model: the export takes a few seconds)

@pytest.fixture(scope="module")
def tiny_exported(tmp_path_factory):
    """A tiny checkpoint with its export in the default dir beside it."""
    with tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "m.safetensors") as checkpoint:
        export_onnx(checkpoint, default_export_dir(checkpoint))
        yield checkpoint


def test_a_current_export_in_a_read_only_dir_is_used_where_it_is(tiny_exported, freeze, ros_home, tmp_path):
    models = shutil.copytree(tiny_exported.parent, tmp_path / "share" / "models")
    checkpoint = models / tiny_exported.name
    freeze(models)
    assert ensure_export(checkpoint) == default_export_dir(checkpoint)
    assert Segmenter.from_checkpoint(checkpoint, "onnxruntime").backend.name == "onnxruntime"
    assert not ros_home.exists()  # nothing copied, nothing exported


def test_without_one_the_export_goes_to_the_cache_root_once(tiny_exported, freeze, ros_home, tmp_path, caplog):
    models = tmp_path / "share" / "models"
    models.mkdir(parents=True)
    checkpoint = Path(shutil.copy(tiny_exported, models / tiny_exported.name))
    freeze(models)
    with caplog.at_level(logging.INFO):
        export_dir = ensure_export(checkpoint)
    assert export_dir == redirected(default_export_dir(checkpoint), "onnx")
    assert export_dir.parent == ros_home / "lts_ros" / "onnx" and export_dir.name.startswith("m-onnx-")
    assert "is read-only: using" in caplog.text and "exporting" in caplog.text
    stamp = (export_dir / "model.json").stat().st_mtime_ns
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert Segmenter.from_checkpoint(checkpoint, "onnxruntime").backend.name == "onnxruntime"
    assert "exporting" not in caplog.text and (export_dir / "model.json").stat().st_mtime_ns == stamp
    assert read_manifest(export_dir).checkpoint_sha256


def test_a_given_read_only_export_dir_is_redirected_only_on_request(tiny_exported, freeze, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    freeze(locked)
    with pytest.raises(LtsError, match="cannot write the ONNX export"):
        ensure_export(tiny_exported, locked / "onnx")  # e.g. 'lts export onnx --out': say so, write nothing
    assert ensure_export(tiny_exported, locked / "onnx", redirect=True) == redirected(locked / "onnx", "onnx")


# TensorRT engines (a fake builder: no TensorRT here)

def test_engines_in_a_read_only_dir_are_reused_and_builds_go_to_the_cache_root(freeze, ros_home, tmp_path,
                                                                                 caplog):
    export, engines, builder = write_export(tmp_path / "onnx"), tmp_path / "engines", FakeBuilder()
    segment = load_or_build(export / "segment.onnx", engines, "fp32", ORIN, builder=builder)
    freeze(engines)
    assert load_or_build(export / "segment.onnx", engines, "fp32", ORIN, builder=builder) == segment
    with caplog.at_level(logging.WARNING):
        text = load_or_build(export / "text.onnx", engines, "fp32", ORIN, builder=builder)
    assert text.parent == redirected(engines, "engines") and text.parent.parent == ros_home / "lts_ros" / "engines"
    assert "is read-only" in caplog.text
    assert load_or_build(export / "text.onnx", engines, "fp32", ORIN, builder=builder) == text
    assert builder.calls == ["segment.onnx", "text.onnx"]  # one build each, the second text one reused


def test_an_undeserializable_engine_in_a_read_only_dir_is_left_there(freeze, tmp_path):
    export, engines, builder = write_export(tmp_path / "onnx"), tmp_path / "engines", FakeBuilder()
    graphs = [(export / "text.onnx", "fp32"), (export / "segment.onnx", "fp32")]
    shipped = open_engines(graphs, engines, ORIN, lambda *paths: paths, builder=builder)
    freeze(engines)

    def open_(*paths):
        if paths[0] == shipped[0]:
            raise IncompatibleEngine(paths[0], ORIN.tensorrt_version)
        return paths

    opened = open_engines(graphs, engines, ORIN, open_, builder=builder)
    assert all(path.parent == redirected(engines, "engines") for path in opened)
    assert all(path.is_file() for path in shipped)  # not discarded: it could not be
