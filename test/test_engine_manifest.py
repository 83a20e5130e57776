"""TensorRT engine cache (artifacts/engine_cache.py) and builder (runtime/compile/tensorrt_build.py) without
TensorRT: naming, manifest checks, rebuild vs refuse, and the clear errors where TensorRT is missing. A fake builder writes engines the way build_engine does."""
import dataclasses
import importlib.util
import json
import logging
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from lts_ros.errors import LtsError
from lts_ros.artifacts.engine_cache import (DeviceInfo, IncompatibleEngine, TensorSpec, check_manifest, engine_name,
                                            graph_name, load_or_build, manifest_path, open_engines, slugify,
                                            write_manifest)
from lts_ros.artifacts.export_manifest import Manifest, read_manifest, sha256_file
from lts_ros.runtime.compile.tensorrt_build import build_engine, current_device, onnx_precision, static_shape

ORIN = DeviceInfo("NVIDIA Jetson AGX Orin", "8.7", "10.3.0.30")
TRT_MISSING = pytest.mark.skipif(importlib.util.find_spec("tensorrt") is not None, reason="TensorRT is installed")


def write_export(export_dir: Path, segment_bytes: bytes = b"segment graph") -> Path:
    """A stand-in export dir: graph files (not parsed here) and a model.json with their hashes."""
    export_dir.mkdir(exist_ok=True)
    (export_dir / "text.onnx").write_bytes(b"text graph")
    (export_dir / "segment.onnx").write_bytes(segment_bytes)
    files = {name: sha256_file(export_dir / name) for name in ("text.onnx", "segment.onnx")}
    Manifest("tiny", 128, 12, 17, files, "0" * 64, "name: tiny\n", []).write(export_dir)
    return export_dir


class FakeBuilder:
    """Writes ``<engine>`` + manifest like build_engine, for ``device``; counts its calls."""

    def __init__(self, device: DeviceInfo = ORIN):
        self.device, self.calls = device, []

    def __call__(self, onnx_path: Path, engine_dir: Path, precision: str, *, model_name: str,
                 input_size: int) -> Path:
        self.calls.append(onnx_path.name)
        path = Path(engine_dir) / engine_name(model_name, input_size, graph_name(onnx_path), precision, self.device)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"plan %d" % len(self.calls))
        write_manifest(path, self.device, sha256_file(onnx_path), precision,
                       [TensorSpec("image", [1, 3, input_size, input_size], "FLOAT")],
                       [TensorSpec("mask_logits", [1, 1, input_size, input_size], "FLOAT")], 0.5)
        return path


@pytest.fixture
def export(tmp_path):
    return write_export(tmp_path / "onnx")


@pytest.fixture
def engines(tmp_path):
    return tmp_path / "engines"


@pytest.fixture
def built(export, engines):
    """A segment engine already in the cache, and the builder that made it."""
    builder = FakeBuilder()
    return load_or_build(export / "segment.onnx", engines, "fp32", ORIN, builder=builder), builder


def edit_manifest(engine: Path, **changes) -> None:
    path = manifest_path(engine)
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def test_engine_name_has_model_size_graph_precision_gpu_and_tensorrt():
    name = engine_name("tiny", 128, "segment", "fp16", ORIN)
    assert name == "tiny-128-segment-fp16-nvidia-jetson-agx-orin-trt10.3.0.30.engine"
    assert manifest_path(Path(name)).name == "tiny-128-segment-fp16-nvidia-jetson-agx-orin-trt10.3.0.30.json"
    assert slugify(" NVIDIA GeForce RTX 4090 (D) ") == "nvidia-geforce-rtx-4090-d"
    with pytest.raises(LtsError, match="unknown precision 'bf16'"):
        engine_name("tiny", 128, "segment", "bf16", ORIN)


def test_manifest_records_what_the_engine_is_tied_to(built, export):
    engine, _ = built
    manifest = json.loads(manifest_path(engine).read_text())
    assert (manifest["gpu_name"], manifest["compute_capability"], manifest["tensorrt_version"]) == \
        ("NVIDIA Jetson AGX Orin", "8.7", "10.3.0.30")
    assert manifest["onnx_sha256"] == sha256_file(export / "segment.onnx") and manifest["precision"] == "fp32"
    assert manifest["inputs"] == [{"name": "image", "shape": [1, 3, 128, 128], "dtype": "FLOAT"}]
    assert manifest["outputs"][0]["name"] == "mask_logits"
    assert {"built_at", "build_seconds", "lts_ros_version"} <= manifest.keys()
    assert check_manifest(manifest, ORIN, manifest["onnx_sha256"], "fp32") == []


@pytest.mark.parametrize("label, change", [
    ("GPU", {"gpu_name": "NVIDIA GeForce RTX 4090"}),
    ("compute capability", {"compute_capability": "8.9"}),
    ("TensorRT version", {"tensorrt_version": "10.3.0.31"}),
    ("ONNX sha256", {"onnx_sha256": "f" * 64}),
    ("precision", {"precision": "fp16"}),
])
def test_check_manifest_names_each_mismatch(built, label, change):
    manifest = json.loads(manifest_path(built[0]).read_text())
    (key, value), = change.items()
    device = dataclasses.replace(ORIN, **{k: v for k, v in change.items() if hasattr(ORIN, k)})
    reasons = check_manifest(manifest, device, change.get("onnx_sha256", manifest["onnx_sha256"]),
                             change.get("precision", "fp32"))
    assert reasons == [f"{label}: engine has {manifest[key]!r}, needed {value!r}"]


def test_check_manifest_of_an_empty_manifest_lists_everything():
    assert len(check_manifest({}, ORIN, "0" * 64, "fp32")) == 6  # format + the five above


def test_a_current_engine_is_reused(built, export, engines):
    engine, builder = built
    assert engine.parent == engines and builder.calls == ["segment.onnx"]
    assert sorted(p.name for p in engines.iterdir()) == sorted([engine.name, manifest_path(engine).name])
    assert load_or_build(export / "segment.onnx", engines, "fp32", ORIN, builder=builder) == engine
    assert builder.calls == ["segment.onnx"] and engine.read_bytes() == b"plan 1"


@pytest.mark.parametrize("key, value", [("gpu_name", "Orin"), ("compute_capability", "7.2"),
                                        ("tensorrt_version", "10.3.0.26"), ("onnx_sha256", "f" * 64),
                                        ("precision", "int8")])
def test_a_mismatching_engine_is_rebuilt_with_the_reason_logged(built, export, engines, key, value, caplog):
    engine, builder = built
    edit_manifest(engine, **{key: value})
    with caplog.at_level(logging.WARNING, "lts_ros.artifacts.engine_cache"):
        assert load_or_build(export / "segment.onnx", engines, "fp32", ORIN, builder=builder) == engine
    assert builder.calls == ["segment.onnx"] * 2 and engine.read_bytes() == b"plan 2"
    assert f"engine has {value!r}" in caplog.text
    assert check_manifest(json.loads(manifest_path(engine).read_text()), ORIN,
                          sha256_file(export / "segment.onnx"), "fp32") == []


@pytest.mark.parametrize("key, value", [("gpu_name", "Orin"), ("compute_capability", "7.2"),
                                        ("tensorrt_version", "10.3.0.26"), ("onnx_sha256", "f" * 64),
                                        ("precision", "int8")])
def test_a_mismatching_engine_is_refused_when_asked(built, export, engines, key, value):
    engine, builder = built
    edit_manifest(engine, **{key: value})
    with pytest.raises(LtsError, match=f"{engine.name} is stale .*engine has {value!r}"):
        load_or_build(export / "segment.onnx", engines, "fp32", ORIN, builder, "refuse")
    assert builder.calls == ["segment.onnx"] and engine.read_bytes() == b"plan 1"


def test_a_new_export_makes_the_engine_stale(built, export, engines):
    engine, builder = built
    write_export(export, b"another segment graph")
    with pytest.raises(LtsError, match="ONNX sha256: engine has"):
        load_or_build(export / "segment.onnx", engines, "fp32", ORIN, builder, "refuse")
    assert load_or_build(export / "segment.onnx", engines, "fp32", ORIN, builder=builder) == engine
    assert builder.calls == ["segment.onnx"] * 2


@pytest.mark.parametrize("damage, reason", [
    (lambda path: path.unlink(), "no manifest"),
    (lambda path: path.write_text('{"gpu_name": "NVIDIA Jet'), "unreadable manifest"),
    (lambda path: path.write_text("[]"), "unreadable manifest"),
])
def test_an_engine_without_a_readable_manifest_is_stale(built, export, engines, damage, reason):
    engine, builder = built
    damage(manifest_path(engine))
    with pytest.raises(LtsError, match=f"stale .*{reason} {manifest_path(engine).name}"):
        load_or_build(export / "segment.onnx", engines, "fp32", ORIN, builder, "refuse")
    assert load_or_build(export / "segment.onnx", engines, "fp32", ORIN, builder=builder) == engine
    assert builder.calls == ["segment.onnx"] * 2 and manifest_path(engine).is_file()


@pytest.mark.parametrize("on_mismatch", ["rebuild", "refuse"])
def test_a_manifest_without_its_engine_means_build(built, export, engines, on_mismatch):
    engine, builder = built
    engine.unlink()
    assert load_or_build(export / "segment.onnx", engines, "fp32", ORIN, builder, on_mismatch) == engine
    assert builder.calls == ["segment.onnx"] * 2 and engine.is_file()


def test_engines_are_read_only_from_engine_dir(built, export, tmp_path):
    engine, builder = built  # a matching engine, but in another dir
    other = tmp_path / "robot-engines"
    found = load_or_build(export / "segment.onnx", other, "fp32", ORIN, builder=builder)
    assert found == other / engine.name and builder.calls == ["segment.onnx"] * 2


def test_a_build_that_does_not_match_this_device_is_never_returned(export, engines):
    wrong = FakeBuilder(dataclasses.replace(ORIN, compute_capability="7.2"))
    with pytest.raises(LtsError, match="does not match .*compute capability: engine has '7.2', needed '8.7'"):
        load_or_build(export / "segment.onnx", engines, "fp32", ORIN, builder=wrong)
    with pytest.raises(LtsError, match="the builder wrote .*geforce"):
        load_or_build(export / "segment.onnx", engines, "fp32", ORIN,
                      builder=FakeBuilder(dataclasses.replace(ORIN, gpu_name="GeForce")))


def test_load_or_build_checks_the_export_and_its_arguments(export, engines, tmp_path):
    (export / "segment.onnx").write_bytes(b"tampered")
    with pytest.raises(LtsError, match="segment.onnx does not match its sha256"):
        load_or_build(export / "segment.onnx", engines, "fp32", ORIN, builder=FakeBuilder())
    with pytest.raises(LtsError, match="not an lts_ros ONNX export"):
        load_or_build(tmp_path / "segment.onnx", engines, "fp32", ORIN, builder=FakeBuilder())
    with pytest.raises(LtsError, match="unknown on_mismatch 'ask'"):
        load_or_build(export / "segment.onnx", engines, "fp32", ORIN, FakeBuilder(), "ask")


def graphs(export: Path) -> list[tuple[Path, str]]:
    return [(export / "text.onnx", "fp32"), (export / "segment.onnx", "fp32")]


def test_open_engines_rebuilds_an_undeserializable_engine_once(export, engines):
    builder, opened = FakeBuilder(), []

    def open_(text: Path, segment: Path) -> tuple[Path, Path]:
        opened.append(segment.read_bytes())
        if segment.read_bytes() == b"plan 2":  # the first segment engine: "built by another TensorRT"
            raise IncompatibleEngine(segment, "10.3.0.30")
        return text, segment

    text, segment = open_engines(graphs(export), engines, ORIN, open_, builder=builder)
    assert builder.calls == ["text.onnx", "segment.onnx", "segment.onnx"]
    assert opened == [b"plan 2", b"plan 3"] and segment.read_bytes() == b"plan 3" and text.is_file()


@pytest.mark.parametrize("on_mismatch, calls", [("refuse", 2), ("rebuild", 3)])
def test_open_engines_gives_up_after_one_rebuild_or_when_refusing(export, engines, on_mismatch, calls):
    builder = FakeBuilder()

    def open_(text: Path, segment: Path):
        raise IncompatibleEngine(segment, "10.3.0.30")

    with pytest.raises(IncompatibleEngine, match="cannot be deserialized by TensorRT 10.3.0.30") as info:
        open_engines(graphs(export), engines, ORIN, open_, builder, on_mismatch)
    assert isinstance(info.value, LtsError) and info.value.path.name.startswith("tiny-128-segment-fp32")
    assert len(builder.calls) == calls


def write_onnx(path: Path, precision: str) -> Path:
    """A one-op graph in fp32, fp16 (float16 weights) or int8 (Q/DQ)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    if precision == "fp32":
        nodes = [helper.make_node("Add", ["x", "w"], ["y"])]
        inits = [numpy_helper.from_array(np.ones(4, np.float32), "w")]
    elif precision == "fp16":
        nodes = [helper.make_node("Cast", ["x"], ["h"], to=TensorProto.FLOAT16),
                 helper.make_node("Add", ["h", "w"], ["s"]),
                 helper.make_node("Cast", ["s"], ["y"], to=TensorProto.FLOAT)]
        inits = [numpy_helper.from_array(np.ones(4, np.float16), "w")]
    else:
        nodes = [helper.make_node("QuantizeLinear", ["x", "scale", "zero"], ["q"]),
                 helper.make_node("DequantizeLinear", ["q", "scale", "zero"], ["y"])]
        inits = [numpy_helper.from_array(np.float32(0.1), "scale"), numpy_helper.from_array(np.int8(0), "zero")]
    onnx.save(helper.make_model(helper.make_graph(nodes, "g", [x], [y], inits)), path)
    return path


@pytest.mark.parametrize("precision", ["fp32", "fp16", "int8"])
def test_onnx_precision_is_read_from_the_file(tmp_path, precision):
    assert onnx_precision(write_onnx(tmp_path / "g.onnx", precision)) == precision


def test_build_engine_takes_the_precision_from_the_onnx(tmp_path, engines):
    fp32, int8 = write_onnx(tmp_path / "fp32.onnx", "fp32"), write_onnx(tmp_path / "int8.onnx", "int8")
    kwargs = {"model_name": "tiny", "input_size": 128}
    with pytest.raises(LtsError, match="fp32.onnx is an fp32 ONNX, not fp16: the precision lives in the ONNX"):
        build_engine(fp32, engines, "fp16", **kwargs)
    with pytest.raises(LtsError, match="int8.onnx is an int8 ONNX, not fp16"):
        build_engine(int8, engines, "fp16", **kwargs)
    with pytest.raises(LtsError, match="ONNX file not found"):
        build_engine(tmp_path / "missing.onnx", engines, "fp32", **kwargs)
    (tmp_path / "bad.onnx").write_bytes(b"\xff" * 64)
    with pytest.raises(LtsError, match="bad.onnx is not a readable ONNX model"):
        build_engine(tmp_path / "bad.onnx", engines, "fp32", **kwargs)
    assert not engines.exists()


def test_static_shape_pins_batch_and_image_size():
    assert static_shape("image", (-1, 3, -1, -1), 320) == (1, 3, 320, 320)
    assert static_shape("token_ids", (-1, 20), 320) == (1, 20)
    with pytest.raises(LtsError, match="ONNX input 'token_ids' .* dynamic dim 1"):
        static_shape("token_ids", (1, -1), 320)


@TRT_MISSING
def test_without_tensorrt_every_entry_point_says_so(tmp_path):
    from lts_ros.runtime.backends.tensorrt_backend import TensorRTBackend

    with pytest.raises(LtsError, match="^TensorRT is not installed .*JetPack"):
        TensorRTBackend(write_export(tmp_path / "onnx"), tmp_path / "engines")
    with pytest.raises(LtsError, match="^TensorRT is not installed"):
        current_device()
    with pytest.raises(LtsError, match="^TensorRT is not installed"):
        build_engine(write_onnx(tmp_path / "g.onnx", "fp32"), tmp_path, "fp32", model_name="tiny", input_size=128)


def test_a_precision_variant_makes_a_segment_engine_of_its_precision_beside_the_fp32_text_engine(export, engines):
    variant = export / "segment.int8-s8s8.onnx"
    variant.write_bytes(b"int8 segment graph")
    manifest = read_manifest(export)
    manifest.files[variant.name] = sha256_file(variant)
    manifest.write(export)
    text, segment = open_engines([(export / "text.onnx", "fp32"), (variant, "int8")], engines, ORIN,
                                 lambda text, segment: (text, segment), builder=FakeBuilder())
    assert text.name.startswith("tiny-128-text-fp32-") and segment.name.startswith("tiny-128-segment-int8-")
    assert json.loads(manifest_path(segment).read_text())["onnx_sha256"] == sha256_file(variant)


def test_the_manifest_records_the_engine_hash_and_a_replaced_engine_is_stale(built, export, engines, caplog):
    engine, builder = built
    assert json.loads(manifest_path(engine).read_text())["engine_sha256"] == sha256_file(engine)
    engine.write_bytes(b"someone else's plan")  # its manifest still matches this GPU and export
    with pytest.raises(LtsError, match=f"stale .*{engine.name} does not match its sha256 .*replaced or damaged"):
        load_or_build(export / "segment.onnx", engines, "fp32", ORIN, builder, "refuse")
    with caplog.at_level(logging.WARNING, "lts_ros.artifacts.engine_cache"):
        assert load_or_build(export / "segment.onnx", engines, "fp32", ORIN, builder) == engine
    assert builder.calls == ["segment.onnx"] * 2 and "replaced or damaged" in caplog.text


def test_an_opened_export_is_hashed_once_for_both_engines(export, engines, monkeypatch):
    from lts_ros.artifacts import export_manifest

    hashed = []
    real = export_manifest.sha256_file
    monkeypatch.setattr(export_manifest, "sha256_file", lambda path: hashed.append(Path(path).name) or real(path))
    opened = export_manifest.open_export(export)
    open_engines([(opened.text_onnx, "fp32"), (opened.segment_onnx("fp32", gpu=True), "fp32")], engines, ORIN,
                 lambda *paths: paths, FakeBuilder(), export=opened)
    assert sorted(hashed) == ["segment.onnx", "text.onnx"]  # by open_export; the cache reuses its manifest
