"""The user API: set the command once (encoded and cached), then segment frame after frame."""
from __future__ import annotations

import functools
import logging
import platform
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lts_ros.artifacts.cache_root import default_engine_dir
from lts_ros.artifacts.export_manifest import Export, variant_for
from lts_ros.checkpoint import load_checkpoint, read_metadata
from lts_ros.errors import LtsError
from lts_ros.language import Query, read_command
from lts_ros.model.text import Tokenizer, build_tokenizer, check_expression
from lts_ros.options import BACKEND_CHOICES, PRESENCE_THRESHOLD, check_choice, check_precision, parse_device
from lts_ros.runtime.backends.base import Backend, TextArrays
from lts_ros.runtime.backends.onnxruntime_backend import OnnxRuntimeBackend, choose_providers
from lts_ros.runtime.backends.torch_backend import TorchBackend
from lts_ros.runtime.lock_on import LockOn
from lts_ros.runtime.missed_member import crop_view
from lts_ros.runtime.postprocess import (RECOUNT_LOGIT, build_result, candidate_at, candidates_of,
                                          frame_logits)
from lts_ros.runtime.preprocess import check_depth_and_intrinsics, prepare_image
from lts_ros.runtime.query_plan import (conclude, first_selection, first_text, follow_ups,
                                       missed_member_checks, settle_count, tracking_text)
from lts_ros.runtime.result import Candidate, Inference, Result

if TYPE_CHECKING:
    from lts_ros.runtime.backends.openvino_backend import OpenVinoBackend
    from lts_ros.runtime.backends.tensorrt_backend import TensorRTBackend

TEXT_CACHE_SIZE = 16
X86 = ("x86_64", "amd64", "i686")  # platform.machine() of the CPUs OpenVINO's CPU plugin targets
log = logging.getLogger(__name__)


def auto_candidates(device: str) -> list[str]:
    """The backends ``auto`` tries for ``device``, fastest first: TensorRT on a CUDA GPU, OpenVINO on an x86 CPU,
    then ONNX Runtime and torch. Each one passed over is logged with the reason."""
    if parse_device(device).kind == "openvino":
        return ["openvino"]  # only OpenVINO runs on its own devices
    candidates = []
    for name, problem in (("tensorrt", tensorrt_problem(device)), ("openvino", openvino_problem(device))):
        if problem is None:
            candidates.append(name)
        else:
            log.info("backend auto: not %s (%s)", name, problem)
    return [*candidates, "onnxruntime", "torch"]


def tensorrt_problem(device: str) -> str | None:
    """Why TensorRT cannot run on ``device`` (None: it imports and ``device`` is a CUDA GPU torch can see)."""
    if not parse_device(device).is_gpu:
        return f"device {device} is not a CUDA GPU"
    try:
        import tensorrt  # noqa: F401
        import torch
    except ImportError as exc:
        return f"{exc.name} does not import"
    return None if torch.cuda.is_available() else "torch sees no CUDA GPU"


def openvino_problem(device: str) -> str | None:
    """Why OpenVINO is not auto's choice for ``device`` (None: an x86 CPU that OpenVINO imports and sees)."""
    from lts_ros.runtime.backends.openvino_backend import openvino_usable

    if parse_device(device).is_gpu:
        return f"device {device} is a GPU"
    if platform.machine().lower() not in X86:
        return f"{platform.machine()} is not an x86 CPU"
    return None if openvino_usable() else "openvino does not import or sees no CPU"


class Segmenter:
    """Referring segmentation on numpy frames, whatever backend runs underneath."""

    def __init__(self, backend: Backend, tokenizer: Tokenizer, input_size: int, threshold: float = PRESENCE_THRESHOLD):
        if not 0.0 <= threshold <= 1.0:
            raise LtsError(f"threshold must be in [0, 1], got {threshold}")
        self.backend, self.tokenizer = backend, tokenizer
        self.input_size, self.threshold = input_size, threshold
        self._lock = LockOn()
        self.lock_on = False  # follow the first found object (runtime/lock_on.py); False: each frame from scratch
        self.refine_edges = True  # snap the mask's edges to the frame (runtime/refine.py); False: the model's own
        self.resolve_phrases = True  # read commands (lts_ros.language) and execute the query; False: the model alone
        self.command: str | None = None
        self.reading: Query | None = None  # how the current command is read
        self._text: TextArrays | None = None
        # LRU by expression: switching back to a recent command skips the text encoder.
        self._encode = functools.lru_cache(maxsize=TEXT_CACHE_SIZE)(self._encode_uncached)

    @classmethod
    def from_checkpoint(cls, path: str | Path, backend: str = "auto", device: str = "cpu",
                        onnx_dir: str | Path | None = None, threshold: float = PRESENCE_THRESHOLD,
                        precision: str = "fp32", threads: int = 0, engine_dir: str | Path | None = None,
                        on_mismatch: str = "rebuild") -> "Segmenter":
        """Build from a checkpoint. ``backend``:
        ``torch`` runs the checkpoint directly (``precision`` fp32, bf16 autocast, fp16 autocast on CUDA);
        ``onnxruntime`` and ``openvino`` run its ONNX export in ``onnx_dir`` (default ``<stem>-onnx/`` beside
        the checkpoint), reused when it was made from this checkpoint, else exported and verified first;
        ``tensorrt`` builds (or reuses, per its manifest) engines from that export in ``engine_dir`` (default
        ``$ROS_HOME/lts_ros/engines``). A read-only ``onnx_dir`` or ``engine_dir`` is still read; what has to
        be written goes to ``$ROS_HOME/lts_ros/`` instead (``artifacts.cache_root``). Relative dirs are relative
        to the working directory here (the node resolves its parameters against the cache root first).
        With ``precision`` fp16 or int8 the ONNX backends need that variant in the export
        (``lts export onnx --precision``); OpenVINO's bf16 is its hint on the fp32 graph. ``auto`` tries, in
        turn, ``tensorrt`` (TensorRT imports and ``device`` is a CUDA GPU), ``openvino`` (an x86 CPU where it
        imports), ``onnxruntime`` and ``torch``, logging why each one it passes over cannot run.
        ``threads``: ONNX Runtime / OpenVINO inference threads (0 = their default)."""
        check_choice("backend", backend, BACKEND_CHOICES)
        path = Path(path)
        read_metadata(path)  # a bad checkpoint fails here, whatever the backend
        candidates = auto_candidates(device) if backend == "auto" else [backend]
        arguments = (path, device, onnx_dir, threshold, precision, threads, engine_dir, on_mismatch)
        for name, fallback in zip(candidates, candidates[1:]):
            try:
                return cls._from_checkpoint_with(name, *arguments)
            except LtsError as exc:
                log.warning("backend %s cannot run (%s); trying %s", name, exc, fallback)
        return cls._from_checkpoint_with(candidates[-1], *arguments)

    @classmethod
    def _from_checkpoint_with(cls, backend: str, path: Path, device: str, onnx_dir: str | Path | None,
                              threshold: float, precision: str, threads: int, engine_dir: str | Path | None,
                              on_mismatch: str) -> "Segmenter":
        if backend == "torch":
            model = load_checkpoint(path, "cpu")
            return cls(TorchBackend(model, device, precision), model.tokenizer, model.cfg.input_size, threshold)
        from lts_ros.runtime.compile.onnx_export import current_export  # torch.onnx: loaded only when exporting

        if backend == "tensorrt":
            engines = default_engine_dir() if engine_dir is None else engine_dir
            return cls.from_engines(current_export(path, onnx_dir, redirect=True), engines, precision,
                                    on_mismatch, device, threshold)
        if backend == "openvino":
            from lts_ros.runtime.backends.openvino_backend import import_openvino, openvino_target

            check_precision(precision, backend)  # a precision or device OpenVINO cannot run fails before exporting
            openvino_target(device, precision, import_openvino().Core())
            return cls.from_openvino(current_export(path, onnx_dir, redirect=True), threshold, threads, precision,
                                     device)
        variant_for(precision, gpu=parse_device(device).is_gpu)  # as does one ONNX Runtime cannot run,
        choose_providers(device)  # or a device it cannot run on
        return cls.from_onnx(current_export(path, onnx_dir, redirect=True), device, threshold, threads=threads,
                             precision=precision)

    @classmethod
    def from_onnx(cls, export: Export | str | Path, device: str = "cpu", threshold: float = PRESENCE_THRESHOLD,
                  threads: int = 0, precision: str = "fp32") -> "Segmenter":
        """Build from an export (its dir, or opened) alone (no checkpoint, no torch model): see
        ``runtime.compile.onnx_export``; ``precision`` picks the segment graph variant (``export.precision``)."""
        return cls._for_backend(OnnxRuntimeBackend(export, device, threads, precision), threshold)

    @classmethod
    def from_openvino(cls, export: Export | str | Path, threshold: float = PRESENCE_THRESHOLD, threads: int = 0,
                      precision: str = "fp32", device: str = "cpu") -> "Segmenter":
        """Build from an export (its dir, or opened) run by OpenVINO on the CPU, or on ``device`` openvino:GPU /
        openvino:NPU (``runtime.backends.openvino_backend``)."""
        from lts_ros.runtime.backends.openvino_backend import OpenVinoBackend

        return cls._for_backend(OpenVinoBackend(export, device, threads, precision), threshold)

    @classmethod
    def from_engines(cls, export: Export | str | Path, engine_dir: str | Path = "engines", precision: str = "fp32",
                     on_mismatch: str = "rebuild", device: str = "cuda",
                     threshold: float = PRESENCE_THRESHOLD) -> "Segmenter":
        """TensorRT engines for an ONNX export (its dir, or opened), from the manifest-checked cache in
        ``engine_dir``."""
        from lts_ros.runtime.backends.tensorrt_backend import TensorRTBackend

        return cls._for_backend(TensorRTBackend(export, engine_dir, precision, on_mismatch, device),
                                threshold)

    @classmethod
    def _for_backend(cls, backend: OnnxRuntimeBackend | OpenVinoBackend | TensorRTBackend,
                     threshold: float) -> "Segmenter":
        """A Segmenter over an export's backend: tokenizer and input size from its manifest."""
        cfg = backend.manifest.model_config()
        return cls(backend, build_tokenizer(cfg.text, backend.manifest.vocab or None), cfg.input_size, threshold)

    @property
    def lock_on(self) -> bool:
        """Lock-on (``runtime.lock_on``): once a command is answered found, later frames follow that object
        (``tracking`` / ``lost`` / ``reacquired``); switching it off or on forgets the track."""
        return self._lock_on

    @lock_on.setter
    def lock_on(self, value: bool) -> None:
        self._lock_on = bool(value)
        self._lock.reset()

    def _encode_uncached(self, text: str) -> TextArrays:
        token_ids, attention_mask = self.tokenizer([text])
        return self.backend.encode_text(token_ids.numpy(), attention_mask.numpy())

    def cache_info(self) -> "functools._CacheInfo":
        """Text cache statistics (hits, misses, maxsize, currsize)."""
        return self._encode.cache_info()

    @property
    def text_features(self) -> TextArrays:
        """The current command's encoded text (the segment graph's text inputs)."""
        if self._text is None:
            raise LtsError("no command set: call set_command('the red mug') first")
        return self._text

    def clear_command(self) -> None:
        """Forget the current command (the text cache stays)."""
        self.command, self.reading, self._text = None, None, None
        self._lock.reset()

    def set_command(self, text: str) -> None:
        """Set the expression naming the object; read once (``self.reading``, a ``language.Query``), its text
        encoded once and reused for every frame. A selection ("the second ball from the left") sends its set
        ("the ball") to the model and picks the member per frame; a relation ("the mug left of the ball") may ask
        the model for its anchor too, and exclusions ("not the red one") for what they exclude
        (``runtime.query_plan``). A command the reader cannot read for sure is answered "which one?" with the
        reason (``Result.reason``)."""
        command = check_expression(text)
        reading = read_command(command) if self.resolve_phrases else Query(verbatim=command)
        self._text = self._encode(first_text(reading, command))
        self.command, self.reading = command, reading
        self._lock.reset()

    def segment(self, rgb: np.ndarray, depth_m: np.ndarray | None = None, K: np.ndarray | None = None,
                with_prior: bool = False, distortion: np.ndarray | None = None,
                stamp_s: float | None = None) -> Result:
        """Segment the current command's object in ``rgb`` ((H, W, 3) uint8). With ``depth_m``
        (aligned, float32 m or uint16 mm) and ``K`` (3x3) the result also has ``centroid_3d``, undistorted
        with OpenCV ``distortion`` coefficients when given. ``stamp_s``: the frame's time, for lock-on's track
        ages (default: now, monotonic). ``infer`` then ``finish``, in one call."""
        return self.finish(self.infer(rgb), depth_m, K, with_prior, distortion, stamp_s)

    def infer(self, rgb: np.ndarray) -> Inference:
        """The model's part of ``segment``: preprocessing and inference, which need no depth. A node runs it
        while the frame's depth (a separate topic) is still on its way, and pairs depth for ``finish``. Once
        locked on, the model segments the command's description alone (``query_plan.tracking_text``)."""
        if self._lock_on and self._lock.locked:
            inference = self._infer(rgb, self._encode(tracking_text(self.reading, self.command)), self.reading)
            return replace(inference, tracking=True)
        return self._infer(rgb, self.text_features, self.reading)

    def _infer(self, rgb: np.ndarray, text: TextArrays, reading: Query | None) -> Inference:
        start = time.perf_counter()
        image, box = prepare_image(rgb, self.input_size)
        prepared = time.perf_counter()
        outputs = self.backend.segment(image, text)
        inferred = time.perf_counter()
        return Inference(outputs.mask_logits[0, 0], outputs.prior_logits[0, 0], float(outputs.presence_logits[0, 0]),
                         float(outputs.several_logits[0, 0]), box, rgb,
                         {"pre": 1e3 * (prepared - start), "infer": 1e3 * (inferred - prepared)}, reading)

    def finish(self, inference: Inference, depth_m: np.ndarray | None = None, K: np.ndarray | None = None,
               with_prior: bool = False, distortion: np.ndarray | None = None,
               stamp_s: float | None = None) -> Result:
        """The Result of ``inference`` (status, candidates, the found object's mask at the frame's size, box and
        centroids; see ``segment`` and ``runtime.result``). Where the query needs them, the model runs again on
        the frame for a relation's anchor or the exclusions, and on crops for a rank's count (with depth), and they
        settle the answer (``runtime.query_plan``).
        With lock-on, a found answer starts a track that later frames follow instead (``runtime.lock_on``)."""
        start = time.perf_counter()
        stamp_s = time.monotonic() if stamp_s is None else stamp_s
        depth_m, K = check_depth_and_intrinsics(depth_m, K, inference.frame_shape)
        result = self._result(inference, depth_m, K, with_prior, distortion)
        query = inference.reading
        lock_started = time.perf_counter()
        if inference.tracking:
            def fainter() -> list[Candidate]:  # the objects of the mask counted again where the probability is low
                logits = frame_logits(inference.mask_logits, inference.box)  # edges unrefined: a fallback, kept cheap
                return candidates_of(logits + RECOUNT_LOGIT, depth_m, K, distortion)

            def measure(region: np.ndarray, corner: tuple[int, int]) -> Candidate:
                return candidate_at(region, corner, result.score, depth_m, K, distortion)
            result = self._lock.follow(result, inference.frame, stamp_s, self.threshold, fainter, measure)
        elif query is not None:
            answers = [self._result(self._infer(inference.frame, self._encode(q.model_text()), q), depth_m, K, False,
                                    distortion) for q in follow_ups(query, result)]
            result = conclude(query, result, answers)
            checked = missed_member_checks(query, result, depth_m, K)
            if checked:  # a rank's count checked up close where depth shows objects the set's mask left out
                text = self._encode(query.model_text())  # the set, as the first pass asked it
                crops = [self._result(self._infer(crop_view(inference.frame, u), text, None), None, None, False, None)
                         for u in checked]
                result = settle_count(query, result, checked, crops)
        if self._lock_on and not inference.tracking:
            lock_started = time.perf_counter()
            result = self._lock.start(result, inference.frame, stamp_s)
        lock_ms = 1e3 * (time.perf_counter() - lock_started) if self._lock_on else None
        result.timings_ms = {**inference.timings_ms, "post": 1e3 * (time.perf_counter() - start)}
        if lock_ms is not None:  # of which lock-on's (runtime.lock_on), follow-up passes of the model excluded
            result.timings_ms["lock"] = lock_ms
        return result

    def _result(self, inference: Inference, depth_m: np.ndarray | None, K: np.ndarray | None, with_prior: bool,
                distortion: np.ndarray | None) -> Result:
        return build_result(inference.mask_logits, inference.presence_logit, inference.several_logit, inference.box,
                            self.threshold, depth_m, K, inference.prior_logits if with_prior else None, distortion,
                            inference.frame if self.refine_edges else None,
                            first_selection(inference.reading) if inference.reading and not inference.tracking
                            else None)
