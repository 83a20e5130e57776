"""Rolling figures the node reports in /diagnostics (output rate, latency percentiles, drops and errors) and the
diagnostics status built from them."""
from __future__ import annotations

import threading
import time
from collections import Counter, deque

import numpy as np
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue


class NodeStats:
    """Thread-safe: the worker records frames, the executor reads a snapshot."""

    def __init__(self, window: int = 200):
        self._lock = threading.Lock()
        self._done_at: deque[float] = deque(maxlen=window)  # monotonic s of each segmented frame
        self._latency_ms: deque[float] = deque(maxlen=window)  # input stamp -> result published
        self._model_ms: deque[float] = deque(maxlen=window)  # of which Segmenter.segment()
        self._node_ms: deque[float] = deque(maxlen=window)  # frame received -> status published, in the node
        self.errors: Counter[str] = Counter()  # kind -> count (bad encodings, sizes, commands, ...)
        self.frames_in = 0
        self.last_frame_at: float | None = None  # monotonic s of the last image received

    def frame_received(self) -> None:
        with self._lock:
            self.frames_in += 1
            self.last_frame_at = time.monotonic()

    def frame_done(self, latency_ms: float, model_ms: float, node_ms: float) -> None:
        with self._lock:
            self._done_at.append(time.monotonic())
            self._latency_ms.append(latency_ms)
            self._model_ms.append(model_ms)
            self._node_ms.append(node_ms)

    def error(self, kind: str) -> None:
        with self._lock:
            self.errors[kind] += 1

    def snapshot(self) -> dict[str, float]:
        """fps over the window, latency p50/p99 ms (stamp to publish), node p50 ms (received to published) and
        model p50 ms (of which segment()); NaN before any frame."""
        with self._lock:
            done, latency = list(self._done_at), list(self._latency_ms)
            model, node = list(self._model_ms), list(self._node_ms)
        fps = (len(done) - 1) / (done[-1] - done[0]) if len(done) > 1 and done[-1] > done[0] else 0.0
        p50, p99 = np.percentile(latency, [50, 99]) if latency else (float("nan"), float("nan"))
        return {"fps": fps, "latency_p50_ms": float(p50), "latency_p99_ms": float(p99),
                "model_p50_ms": float(np.median(model)) if model else float("nan"),
                "node_p50_ms": float(np.median(node)) if node else float("nan")}

    def diagnostic_status(self, name: str, hardware_id: str, warning: str | None, **values: str) -> DiagnosticStatus:
        """The node's /diagnostics entry: WARN with ``warning`` when there is one, else OK; the rolling figures,
        ``values`` (backend, command, frame counters) and every ``errors.<kind>`` counter."""
        figures = self.snapshot()
        with self._lock:
            errors, frames_in = dict(self.errors), self.frames_in
        listed = {"fps": f"{figures['fps']:.2f}", "latency_p50_ms": f"{figures['latency_p50_ms']:.1f}",
                  "latency_p99_ms": f"{figures['latency_p99_ms']:.1f}", "model_p50_ms": f"{figures['model_p50_ms']:.1f}",
                  "node_p50_ms": f"{figures['node_p50_ms']:.1f}", "frames_received": str(frames_in), **values,
                  **{f"errors.{k}": str(v) for k, v in sorted(errors.items())}}
        return DiagnosticStatus(level=DiagnosticStatus.WARN if warning else DiagnosticStatus.OK, name=name,
                                message=warning or "segmenting", hardware_id=hardware_id,
                                values=[KeyValue(key=k, value=v) for k, v in listed.items()])
