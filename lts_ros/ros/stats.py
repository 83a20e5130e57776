"""Rolling figures the node reports in /diagnostics: output rate, latency percentiles, drops and errors."""
from __future__ import annotations

import threading
import time
from collections import Counter, deque

import numpy as np


class NodeStats:
    """Thread-safe: the worker records frames, the executor reads a snapshot."""

    def __init__(self, window: int = 200):
        self._lock = threading.Lock()
        self._done_at: deque[float] = deque(maxlen=window)  # monotonic s of each segmented frame
        self._latency_ms: deque[float] = deque(maxlen=window)  # input stamp -> result published
        self._infer_ms: deque[float] = deque(maxlen=window)
        self.errors: Counter[str] = Counter()  # kind -> count (bad encodings, sizes, commands, ...)
        self.frames_in = 0
        self.last_frame_at: float | None = None  # monotonic s of the last image received

    def frame_received(self) -> None:
        with self._lock:
            self.frames_in += 1
            self.last_frame_at = time.monotonic()

    def frame_done(self, latency_ms: float, infer_ms: float) -> None:
        with self._lock:
            self._done_at.append(time.monotonic())
            self._latency_ms.append(latency_ms)
            self._infer_ms.append(infer_ms)

    def error(self, kind: str) -> None:
        with self._lock:
            self.errors[kind] += 1

    def snapshot(self) -> dict[str, float]:
        """fps over the window, latency p50/p99 ms (stamp to publish), infer p50 ms; NaN before any frame."""
        with self._lock:
            done, latency, infer = list(self._done_at), list(self._latency_ms), list(self._infer_ms)
        fps = (len(done) - 1) / (done[-1] - done[0]) if len(done) > 1 and done[-1] > done[0] else 0.0
        p50, p99 = np.percentile(latency, [50, 99]) if latency else (float("nan"), float("nan"))
        return {"fps": fps, "latency_p50_ms": float(p50), "latency_p99_ms": float(p99),
                "infer_p50_ms": float(np.median(infer)) if infer else float("nan")}
