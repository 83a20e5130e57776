"""Where lts_ros writes what it builds at run time (ONNX exports, TensorRT engines, OpenVINO's compiled models) when the configured place
cannot hold it: ``$ROS_HOME/lts_ros``, or ``~/.ros/lts_ros`` when ROS_HOME is unset (ROS 2's default for it).
Plain Python (no ROS, no torch), shared by the node, the runtime and the exporters.

Two rules, each applied by the caller that owns the path:

- ``in_cache_root``: a *relative* dir from configuration (a ROS parameter) is relative to the cache root, not to
  the working directory, which is ``/`` for a node started by systemd. Paths given to the Python API or on the
  command line stay ordinary paths, relative to the working directory.
- ``writable_or_redirected``: a dir the file system refuses to write (read-only mount, no permission: an
  install's ``share/``) is replaced by ``<root>/<kind>/<name>-<8 hex digits of sha256(absolute path)>``, with
  a warning. Callers ask only once they found nothing reusable there, so a current export or engine in a
  read-only dir is still used where it is.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import tempfile
from pathlib import Path

ENGINES, ONNX, OPENVINO = "engines", "onnx", "openvino"  # subdirs of the cache root
READ_ONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
log = logging.getLogger(__name__)


def cache_root() -> Path:
    """``$ROS_HOME/lts_ros`` (``~`` expanded), else ``~/.ros/lts_ros``; absolute."""
    ros_home = os.environ.get("ROS_HOME")
    base = Path(ros_home).expanduser() if ros_home else Path.home() / ".ros"
    return Path(os.path.abspath(base / "lts_ros"))


def default_engine_dir() -> Path:
    """The TensorRT engine cache when none is configured: ``<root>/engines``."""
    return cache_root() / ENGINES


def in_cache_root(path: str | Path) -> Path:
    """A configured dir: ``~`` expanded; absolute as is, relative under ``cache_root()`` (``engines`` ->
    ``<root>/engines``)."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else cache_root() / path


def is_read_only(path: str | Path) -> bool:
    """Whether the file system refuses to create dir ``path`` or a file in it (EROFS, EACCES, EPERM). Judged by
    trying (mkdir, then a temporary file, removed again): mode bits say nothing for root, which writes to a 0o555
    dir but not to a read-only mount or an immutable dir. Creates ``path`` when it can. Other failures (a file in
    the way, a full disk) are not read-only: the write that follows reports them."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".lts_ros-write-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return exc.errno in READ_ONLY_ERRNOS
    return False


def redirected(path: str | Path, kind: str) -> Path:
    """Where a read-only ``path`` is cached instead: ``<root>/<kind>/<name>-<hash>``; the hash of its absolute
    path keeps two read-only dirs with the same name apart."""
    absolute = os.path.abspath(Path(path).expanduser())
    digest = hashlib.sha256(absolute.encode()).hexdigest()[:8]
    return cache_root() / kind / f"{Path(absolute).name or 'root'}-{digest}"


def writable_or_redirected(path: str | Path, kind: str) -> Path:
    """``path`` when it can be written (created when missing), else ``redirected(path, kind)`` with a warning.
    A dir already inside the cache root is never redirected: there is nowhere better, and the write that
    follows says why it fails."""
    path = Path(path)
    if not is_read_only(path) or Path(os.path.abspath(path)).is_relative_to(cache_root()):
        return path
    target = redirected(path, kind)
    log.warning("%s is read-only: using %s instead", path, target)
    return target
