"""``python -m lts_ros.bench.ros_load``'s camera frame and the model alone: one rendered tabletop frame with a
command that names an object in it, and the shipped model's single-frame time in this process."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from lts_ros.geometry import depth_in_mm

SCENE_SEED = 0  # the rendered tabletop scene every frame shows (content does not change the work)
MODEL_WARMUP, MODEL_FRAMES = 3, 20  # single-frame throughput in this process


@dataclass
class CameraFrame:
    rgb: np.ndarray  # (H, W, 3) uint8
    depth_mm: np.ndarray  # (H, W) uint16
    K: np.ndarray  # (3, 3)
    command: str  # names an object visible in the frame


def render_frame(width: int, height: int) -> CameraFrame:
    """One tabletop scene; the command names its largest visible object with a unique colour and category."""
    from lts_ros.data.tabletop.scene import CATEGORY_WORDS
    from lts_ros.data.tabletop.world import render_scene

    scene = render_scene(SCENE_SEED, width=width, height=height)
    named = [o for o in scene.objects if o.color is not None and o.visible_px > 0]
    unique = [o for o in named if sum((p.color, p.category) == (o.color, o.category) for p in named) == 1]
    target = max(unique or named, key=lambda o: o.visible_px)
    command = f"the {target.color} {CATEGORY_WORDS[target.category][0]}"
    return CameraFrame(scene.rgb, depth_in_mm(scene.depth_m), scene.camera.K, command)


def segment_ms(segmenter, frame: CameraFrame) -> tuple[float, float]:
    """One ``segment()`` on ``frame`` with its depth and K, as the node runs it: (wall ms, pre+infer+post ms)."""
    start = time.perf_counter()
    result = segmenter.segment(frame.rgb, frame.depth_mm, frame.K)
    wall = 1e3 * (time.perf_counter() - start)
    return wall, sum(result.timings_ms[k] for k in ("pre", "infer", "post"))


def measure_model(backend: str, frame: CameraFrame):
    """The shipped model in this process: the median wall time of ``segment()`` (``single_ms``) and of its
    pre+infer+post timings (``segment_ms``) after warm-up, the backend that ran; and the segmenter, kept to
    time the same work beside the node's unloaded frames. Lock-on's own cost (``bench.lock_cost``) is measured
    on this frame panned (the node follows its command with lock-on, its default, on every frame)."""
    from lts_ros.bench.lock_cost import lock_cost
    from lts_ros.checkpoint import shipped_checkpoint
    from lts_ros.runtime.segmenter import Segmenter

    segmenter = Segmenter.from_checkpoint(shipped_checkpoint(), backend=backend)
    segmenter.set_command(frame.command)
    for _ in range(MODEL_WARMUP):
        segment_ms(segmenter, frame)
    wall, parts = zip(*(segment_ms(segmenter, frame) for _ in range(MODEL_FRAMES)))
    single_ms = float(np.median(wall))
    figures = {"backend": segmenter.backend.name, "input_size": segmenter.input_size, "frames": MODEL_FRAMES,
               "single_ms": single_ms, "segment_ms": float(np.median(parts)), "single_fps": 1e3 / single_ms,
               **lock_cost(segmenter, frame.rgb, frame.command, frame.depth_mm, frame.K)}  # leaves it unlocked
    return figures, segmenter
