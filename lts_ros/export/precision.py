"""Reduced-precision variants of an export's per-frame graph, stored beside the fp32 one and listed in
``model.json``. The text graph stays fp32: it runs once per command.

- ``fp16``: weights and activations in float16 (onnxconverter-common), inputs and outputs kept float32.
- ``int8-u8s8`` / ``int8-s8s8``: static Q/DQ (onnxruntime.quantization, MinMax calibration, per-channel int8
  weights) with uint8 asymmetric or int8 symmetric activations. ONNX Runtime's CPU kernels are fast with
  U8S8; TensorRT's explicit quantization wants S8S8. Users ask for ``int8`` and the runtime picks the form.

Each variant is checked against the fp32 graph on frames it was not calibrated on and refused below a mean
agreement of ``MIN_MASK_IOU`` (mask IoU where both say the object is there, ``answer_agreement``);
``export.parity`` measures accuracy against ground truth."""
from __future__ import annotations

import contextlib
import logging
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from lts_ros.errors import LtsError
from lts_ros.export.calibration import Frame
from lts_ros.artifacts.export_manifest import SEGMENT_ONNX, VARIANTS, read_manifest, sha256_file, variant_file
from lts_ros.metrics import iou
from lts_ros.options import PRESENCE_THRESHOLD
from lts_ros.runtime.backends.onnxruntime_backend import CPU, open_session, run_session
from lts_ros.runtime.pixels import sigmoid
from lts_ros.runtime.preprocess import prepare_image

# Export gate: a variant whose answers agree with fp32 below this mean on the check frames is refused. It
# catches broken conversions (a badly clipped int8 calibration scores 0.87); on a few dozen check frames a
# sound int8 variant of the shipped model scores 0.94-0.98, as a few uncertain masks flip. The accuracy
# figures that matter come from 'lts export check' on hundreds of labelled expressions (docs/benchmarks.md).
MIN_MASK_IOU = 0.90
# The first and last convolutions stay fp32: the stem reads raw pixels, the last layers write the logits.
# On the shipped edge model that lifts the U8S8 mask IoU vs fp32 from 0.960 to 0.982 for +6% latency.
FP32_END_CONVS = 3
CONV_OPS = ("Conv", "ConvTranspose")


def rename_tensor(model: onnx.ModelProto, old: str, new: str) -> None:
    """Rename a tensor everywhere nodes produce or read it."""
    for node in model.graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
        node.output[:] = [new if name == old else name for name in node.output]


def expose_internal_outputs(model: onnx.ModelProto) -> None:
    """Make graph outputs that other nodes also read (``prior_logits``) come from an Identity: the
    fp16 converter's ``keep_io_types`` casts the output in place, leaving its internal readers mistyped."""
    outputs = {o.name for o in model.graph.output}
    for name in outputs & {i for node in model.graph.node for i in node.input}:
        rename_tensor(model, name, f"{name}__internal")
        model.graph.node.append(onnx.helper.make_node("Identity", [f"{name}__internal"], [name]))


def cast_outputs_to_float32(model: onnx.ModelProto) -> None:
    """End every float16 graph output with a Cast to float32 (``keep_io_types`` misses some: mask_logits)."""
    for output in model.graph.output:
        if output.type.tensor_type.elem_type == onnx.TensorProto.FLOAT16:
            rename_tensor(model, output.name, f"{output.name}__fp16")
            model.graph.node.append(onnx.helper.make_node("Cast", [f"{output.name}__fp16"], [output.name],
                                                          to=onnx.TensorProto.FLOAT))
            output.type.tensor_type.elem_type = onnx.TensorProto.FLOAT


def convert_fp16(src: Path, dst: Path) -> None:
    from onnxconverter_common import float16

    model = onnx.load(str(src))
    del model.graph.value_info[:]  # stale fp32 shape/type annotations would contradict the converted nodes
    expose_internal_outputs(model)
    with warnings.catch_warnings():  # tiny weights flushed to fp16's range: expected, checked by the IoU bar
        warnings.filterwarnings("ignore", message="the float32 number", category=UserWarning)
        converted = float16.convert_float_to_float16(model, keep_io_types=True)
    cast_outputs_to_float32(converted)
    onnx.save(converted, str(dst))


class _Feeds:
    """onnxruntime.quantization's CalibrationDataReader protocol over a list of feed dicts."""

    def __init__(self, feeds: list[dict[str, np.ndarray]]):
        self._feeds = iter(feeds)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)


def end_convs(model: onnx.ModelProto, count: int = FP32_END_CONVS) -> list[str]:
    """Names of the first and last ``count`` convolutions in graph (topological) order."""
    convs = [node.name for node in model.graph.node if node.op_type in CONV_OPS]
    return convs[:count] + convs[-count:]


@contextlib.contextmanager
def _root_logger_level(level: int) -> Iterator[None]:
    """The quantizer logs on the root logger (a warning per 1-D constant it quantizes per-tensor)."""
    root = logging.getLogger()
    previous = root.level
    root.setLevel(level)
    try:
        yield
    finally:
        root.setLevel(previous)


def quantize_int8(src: Path, dst: Path, feeds: list[dict[str, np.ndarray]], symmetric_activations: bool) -> None:
    """Static Q/DQ quantization of ``src`` calibrated (MinMax) on ``feeds``; ``end_convs`` stay fp32."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as tmp, _root_logger_level(logging.ERROR):
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(src), str(prepared), skip_symbolic_shape=True)  # fold shapes, fuse, infer types
        quantize_static(str(prepared), str(dst), _Feeds(feeds), quant_format=QuantFormat.QDQ, per_channel=True,
                        nodes_to_exclude=end_convs(onnx.load(str(prepared))),
                        activation_type=QuantType.QInt8 if symmetric_activations else QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
                        extra_options={"ActivationSymmetric": symmetric_activations, "WeightSymmetric": True})


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two logit maps thresholded at 0 (both empty counts as 1)."""
    return iou(a > 0, b > 0)


@dataclass
class VariantCheck:
    frames: int
    mask_iou_mean: float  # agreement with the fp32 graph per frame (see ``answer_agreement``), at the input size
    mask_iou_min: float
    max_abs_logit_diff: float
    presence_agreement: float = 1.0  # share of frames where both graphs say the object is there, or both not


def answer_agreement(expected: list[np.ndarray], got: list[np.ndarray], names: list[str]) -> tuple[float, bool]:
    """How far a variant's answer for one frame agrees with fp32's: the masks' IoU where both graphs say the named
    object is there (presence probability >= ``PRESENCE_THRESHOLD``, the runtime's default), 1 where both say it
    is not (the runtime shows no mask then, so the masks' noise is no disagreement), 0 where they disagree. And
    whether presence agreed. Graphs without a presence output compare masks only."""
    if "presence_logits" not in names:
        return mask_iou(got[0], expected[0]), True
    index = names.index("presence_logits")
    there = tuple(float(sigmoid(outputs[index].ravel()[:1])[0]) >= PRESENCE_THRESHOLD for outputs in (expected, got))
    if there[0] != there[1]:
        return 0.0, False
    return (mask_iou(got[0], expected[0]) if there[0] else 1.0), True


def check_variant(reference: ort.InferenceSession, candidate: ort.InferenceSession,
                  feeds: list[dict[str, np.ndarray]]) -> VariantCheck:
    names = [o.name for o in reference.get_outputs()]
    ious, diffs, agreed = [], [], []
    for feed in feeds:
        expected, got = run_session(reference, feed), run_session(candidate, feed)
        score, same_presence = answer_agreement(expected, got, names)
        ious.append(score)
        agreed.append(same_presence)
        diffs.append(float(np.abs(got[0] - expected[0]).max()))
    return VariantCheck(len(feeds), float(np.mean(ious)), float(np.min(ious)), float(np.max(diffs)),
                        float(np.mean(agreed)))


def segment_feeds(export_dir: Path, frames: Sequence[Frame]) -> list[dict[str, np.ndarray]]:
    """The segment graph's inputs for each frame: the letterboxed image and its command's text features."""
    from lts_ros.runtime.segmenter import Segmenter  # the fp32 export's own runtime

    segmenter = Segmenter.from_onnx(export_dir)
    feeds = []
    for frame in frames:
        segmenter.set_command(frame.command)
        feeds.append({"image": prepare_image(frame.rgb, segmenter.input_size)[0], **segmenter.text_features})
    return feeds


def _make_variant(fp32: Path, variant: str, out: Path, calibration: list[dict[str, np.ndarray]],
                  reference: ort.InferenceSession, held_out: list[dict[str, np.ndarray]]) -> VariantCheck:
    try:
        if variant == "fp16":
            convert_fp16(fp32, out)
        else:
            quantize_int8(fp32, out, calibration, symmetric_activations=variant == "int8-s8s8")
    except OSError:
        raise
    except Exception as exc:  # converter / quantizer failures come in many types
        raise LtsError(f"making the {variant} variant failed: {type(exc).__name__}: {exc}") from exc
    return check_variant(reference, open_session(out, [CPU]), held_out)


def add_variants(export_dir: str | Path, variants: Sequence[str], frames: Sequence[Frame], source: str,
                 min_iou: float = MIN_MASK_IOU) -> dict[str, VariantCheck]:
    """Build ``variants`` of ``export_dir``'s segment graph, calibrated on the even frames and checked on the
    odd ones, and list them in ``model.json``. A variant below ``min_iou`` is refused (the one it would have
    replaced stays). No variants (an fp32-only export) is nothing to do and needs no frames."""
    export_dir = Path(export_dir)
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise LtsError(f"unknown variant(s) {', '.join(unknown)} (use {', '.join(VARIANTS)})")
    if not variants:
        return {}
    if len(frames) < 2:
        raise LtsError(f"need at least 2 frames to calibrate and check a variant, got {len(frames)}")
    manifest = read_manifest(export_dir)
    reference = open_session(export_dir / SEGMENT_ONNX, [CPU])
    inputs = [i.name for i in reference.get_inputs()]  # the export pruned text inputs its graph does not read
    feeds = [{name: feed[name] for name in inputs} for feed in segment_feeds(export_dir, frames)]
    calibration, held_out = feeds[0::2], feeds[1::2]
    checks = {}
    for variant in variants:
        path = export_dir / variant_file(variant)
        candidate = path.with_name(f"{path.name}.tmp")  # the current variant stays valid until this one passes
        try:
            check = _make_variant(export_dir / SEGMENT_ONNX, variant, candidate, calibration, reference, held_out)
            if not check.mask_iou_mean >= min_iou:
                raise LtsError(f"{variant} variant refused: mean agreement with fp32 {check.mask_iou_mean:.3f} < "
                               f"{min_iou} on {check.frames} frames (min {check.mask_iou_min:.3f}; mask IoU where "
                               f"both find the object, presence agreed on {100 * check.presence_agreement:.0f} %)")
            candidate.replace(path)
        finally:
            candidate.unlink(missing_ok=True)
        manifest.files[path.name] = sha256_file(path)
        calibrated = {"source": source, "frames": len(calibration)} if variant.startswith("int8") else None
        manifest.variants[variant] = {"file": path.name, "calibration": calibrated, "check": asdict(check)}
        manifest.write(export_dir)  # each accepted variant is recorded, whatever happens to the next one
        checks[variant] = check
    return checks
