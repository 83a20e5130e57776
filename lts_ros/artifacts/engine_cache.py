"""The TensorRT engine cache: engines built from an ONNX export live in an engine dir (default
``$ROS_HOME/lts_ros/engines``, see ``artifacts.cache_root``), each with a manifest beside it that says what it is
tied to (GPU, compute capability, exact TensorRT version, the ONNX graph's sha256, precision) and the engine
file's own sha256.

TensorRT has no preflight check for a serialized engine, so the manifest is the cache key: a stale or replaced
engine is rebuilt or refused, never deserialized. Plain Python: the build itself is passed in (``Builder``;
``runtime.compile.tensorrt_build.build_engine`` on a machine with TensorRT)."""
from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol, TypeVar

from lts_ros import __version__
from lts_ros.artifacts.cache_root import ENGINES, writable_or_redirected
from lts_ros.artifacts.export_manifest import Export, open_export, sha256_file
from lts_ros.errors import LtsError
from lts_ros.options import check_precision

FORMAT = "lts_ros-trt/2"  # 2: the engine file's sha256 is in its manifest
ON_MISMATCH = ("rebuild", "refuse")
log = logging.getLogger(__name__)
T = TypeVar("T")


class Builder(Protocol):
    """Builds ``onnx_path`` into ``engine_dir/<engine_name>`` plus its manifest; returns the engine path."""

    def __call__(self, onnx_path: Path, engine_dir: Path, precision: str, *, model_name: str,
                 input_size: int) -> Path: ...


class IncompatibleEngine(LtsError):
    """TensorRT could not deserialize an engine (other TensorRT version, GPU or OS, or a damaged file)."""

    def __init__(self, path: Path, tensorrt_version: str):
        super().__init__(f"{path} cannot be deserialized by TensorRT {tensorrt_version}: built by another "
                         "TensorRT version or for another GPU/OS, or damaged (rebuild it)")
        self.path = path


@dataclass(frozen=True)
class DeviceInfo:
    """What a serialized engine is tied to."""

    gpu_name: str
    compute_capability: str  # "major.minor", e.g. "8.7" (Jetson Orin)
    tensorrt_version: str  # exact, e.g. "10.3.0.30"


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: list[int]  # -1 = dynamic
    dtype: str  # TensorRT DataType name: FLOAT, HALF, INT64, ...


def slugify(text: str) -> str:
    """``NVIDIA Jetson AGX Orin`` -> ``nvidia-jetson-agx-orin``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def graph_name(onnx_path: Path) -> str:
    """``segment`` for ``segment.onnx`` and its precision variants (``segment.int8-s8s8.onnx``)."""
    return onnx_path.name.split(".")[0]


def engine_name(model_name: str, input_size: int, graph: str, precision: str, device: DeviceInfo) -> str:
    """``<model>-<size>-<graph>-<precision>-<gpu>-trt<version>.engine``; ``graph`` is the ONNX stem
    (``text`` / ``segment``): an export has two graphs, so two engines."""
    check_precision(precision, "tensorrt")
    return (f"{model_name}-{input_size}-{graph}-{precision}-{slugify(device.gpu_name)}"
            f"-trt{device.tensorrt_version}.engine")


def manifest_path(engine_path: Path) -> Path:
    return engine_path.with_suffix(".json")


def write_atomic(path: Path, data: bytes | memoryview) -> None:
    """Temp file in the same dir, fsync, rename: readers see the old file or the whole new one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise LtsError(f"cannot write {path} ({exc.strerror or exc})") from None


def write_manifest(engine_path: Path, device: DeviceInfo, onnx_sha256: str, precision: str,
                   inputs: Sequence[TensorSpec], outputs: Sequence[TensorSpec], build_seconds: float) -> Path:
    """Write ``<engine>.json`` beside the engine, once the engine is complete (the manifest marks a complete
    engine, and records its sha256)."""
    manifest = {"format": FORMAT, "engine": engine_path.name, "engine_sha256": sha256_file(engine_path),
                "onnx_sha256": onnx_sha256, "precision": precision,
                **asdict(device), "inputs": [asdict(s) for s in inputs], "outputs": [asdict(s) for s in outputs],
                "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "build_seconds": round(build_seconds, 1), "lts_ros_version": __version__}
    path = manifest_path(engine_path)
    write_atomic(path, (json.dumps(manifest, indent=1) + "\n").encode())
    return path


def check_manifest(manifest: dict, device: DeviceInfo, onnx_sha256: str, precision: str) -> list[str]:
    """Why an engine with this manifest must not run here (empty: it is compatible)."""
    expected = {"manifest format": ("format", FORMAT), "GPU": ("gpu_name", device.gpu_name),
                "compute capability": ("compute_capability", device.compute_capability),
                "TensorRT version": ("tensorrt_version", device.tensorrt_version),
                "ONNX sha256": ("onnx_sha256", onnx_sha256), "precision": ("precision", precision)}
    return [f"{label}: engine has {manifest.get(key)!r}, needed {value!r}"
            for label, (key, value) in expected.items() if manifest.get(key) != value]


def stale_reasons(engine_path: Path, device: DeviceInfo, onnx_sha256: str, precision: str) -> list[str]:
    """``check_manifest`` for an existing engine file, then the file against its recorded sha256 (a replaced or
    damaged engine is never deserialized); a missing or unreadable manifest is a reason."""
    path = manifest_path(engine_path)
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        return [f"no manifest {path.name}"]
    except (OSError, ValueError) as exc:
        return [f"unreadable manifest {path.name} ({exc})"]
    if not isinstance(manifest, dict):
        return [f"unreadable manifest {path.name} (not a JSON object)"]
    reasons = check_manifest(manifest, device, onnx_sha256, precision)
    if not reasons and manifest.get("engine_sha256") != sha256_file(engine_path):
        reasons = [f"{engine_path.name} does not match its sha256 in {path.name}: replaced or damaged"]
    return reasons


def discard_engine(engine_path: Path) -> None:
    """Remove an engine and its manifest (manifest first: an engine without one is never trusted)."""
    manifest_path(engine_path).unlink(missing_ok=True)
    engine_path.unlink(missing_ok=True)


def load_or_build(onnx_path: str | Path, engine_dir: str | Path, precision: str, device: DeviceInfo,
                  builder: Builder, on_mismatch: str = "rebuild", export: Export | None = None) -> Path:
    """The engine for ``onnx_path`` (a graph of an lts_ros export, checked against its ``model.json``; pass the
    ``export`` already opened to skip re-hashing it), read only from ``engine_dir``: reused when its manifest
    matches ``device``, the ONNX hash and ``precision`` and the engine its own hash; built when missing; a stale
    one (mismatch, no or unreadable manifest, replaced file) is rebuilt (``rebuild``, reasons logged) or refused
    with an LtsError listing the reasons (``refuse``). When ``engine_dir`` is read-only, the build (and the reuse
    of an earlier one) happens in ``cache_root.redirected(engine_dir, "engines")`` instead, with a warning."""
    if on_mismatch not in ON_MISMATCH:
        raise LtsError(f"unknown on_mismatch '{on_mismatch}' (use {', '.join(ON_MISMATCH)})")
    onnx_path, engine_dir = Path(onnx_path), Path(engine_dir)
    export = export if export is not None else open_export(onnx_path.parent)
    manifest = export.manifest
    if onnx_path.parent.resolve() != export.dir.resolve() or onnx_path.name not in manifest.files:
        raise LtsError(f"{onnx_path.name} is not listed in {export.dir}/model.json")
    onnx_sha256 = manifest.files[onnx_path.name]
    path = engine_dir / engine_name(manifest.config_name, manifest.input_size, graph_name(onnx_path), precision,
                                    device)
    if path.is_file():
        reasons = stale_reasons(path, device, onnx_sha256, precision)
        if not reasons:
            return path
        if on_mismatch == "refuse":
            raise LtsError(f"{path} is stale and on_mismatch is 'refuse': {'; '.join(reasons)}")
        log.warning("rebuilding %s: %s", path, "; ".join(reasons))
    build_dir = writable_or_redirected(engine_dir, ENGINES)
    if build_dir != engine_dir:
        return load_or_build(onnx_path, build_dir, precision, device, builder, on_mismatch, export)
    built = builder(onnx_path, engine_dir, precision, model_name=manifest.config_name,
                    input_size=manifest.input_size)
    reasons = [f"the builder wrote {built}"] if Path(built) != path else []
    reasons += stale_reasons(path, device, onnx_sha256, precision) if path.is_file() else ["no engine written"]
    if reasons:
        raise LtsError(f"the engine built for {onnx_path.name} does not match {path.name}: {'; '.join(reasons)}")
    return path


def open_engines(graphs: Sequence[tuple[Path, str]], engine_dir: str | Path, device: DeviceInfo,
                 open_: Callable[..., T], builder: Builder, on_mismatch: str = "rebuild",
                 export: Export | None = None) -> T:
    """``open_(*engine_paths)`` after ``load_or_build`` of each (ONNX path, precision) graph. An engine TensorRT
    cannot deserialize (``IncompatibleEngine``) despite its manifest is discarded and rebuilt once, or refused;
    one in a read-only dir is left there, and all engines come from the cache root's copy of that dir instead."""
    def open_all(engine_dir: str | Path) -> T:
        return open_(*(load_or_build(path, engine_dir, precision, device, builder, on_mismatch, export)
                       for path, precision in graphs))

    try:
        return open_all(engine_dir)
    except IncompatibleEngine as exc:
        if on_mismatch == "refuse":
            raise
        log.warning("%s", exc)
        build_dir = writable_or_redirected(exc.path.parent, ENGINES)
        if build_dir == exc.path.parent:
            discard_engine(exc.path)
        else:
            engine_dir = build_dir
    return open_all(engine_dir)
