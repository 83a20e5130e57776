"""Rolling figures the node reports in /diagnostics (output rate, latency percentiles, drops and errors) and the
diagnostics status built from them."""
from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque

import numpy as np
from diagnostic_msgs.msg import DiagnosticStatus, KeyValue


OTHER_CLOCK = ("n/a: image stamps are not on this node's clock (replaying a bag? publish its /clock and set "
               "use_sim_time)")
NO_FRAME = "n/a: no frame segmented yet"


class NodeStats:
    """Thread-safe: the worker records frames, the executor reads a snapshot."""

    def __init__(self, window: int = 200):
        self._lock = threading.Lock()
        self._done_at: deque[float] = deque(maxlen=window)  # monotonic s of each segmented frame
        self._latency_ms: deque[float] = deque(maxlen=window)  # input stamp -> result published (NaN: n/a)
        self._model_ms: deque[float] = deque(maxlen=window)  # of which Segmenter.segment()
        self._node_ms: deque[float] = deque(maxlen=window)  # frame received -> status published, in the node
        self.errors: Counter[str] = Counter()  # kind -> count (bad encodings, sizes, commands, ...)
        self.frames_in = 0
        self.last_frame_at: float | None = None  # monotonic s of the last image received

    def frame_received(self) -> None:
        with self._lock:
            self.frames_in += 1
            self.last_frame_at = time.monotonic()

    def frame_done(self, latency_ms: float | None, model_ms: float, node_ms: float) -> None:
        """A frame segmented; ``latency_ms`` None when its stamp is not on the node's clock (nothing to measure)."""
        with self._lock:
            self._done_at.append(time.monotonic())
            self._latency_ms.append(float("nan") if latency_ms is None else latency_ms)
            self._model_ms.append(model_ms)
            self._node_ms.append(node_ms)

    def error(self, kind: str) -> None:
        with self._lock:
            self.errors[kind] += 1

    def snapshot(self) -> dict[str, float]:
        """fps over the window, latency p50/p99 ms (stamp to publish; over the frames stamped on the node's clock),
        node p50 ms (received to published) and model p50 ms (of which segment()); NaN before any frame."""
        with self._lock:
            done, latency = list(self._done_at), [v for v in self._latency_ms if not math.isnan(v)]
            model, node = list(self._model_ms), list(self._node_ms)
        fps = (len(done) - 1) / (done[-1] - done[0]) if len(done) > 1 and done[-1] > done[0] else 0.0
        p50, p99 = np.percentile(latency, [50, 99]) if latency else (float("nan"), float("nan"))
        return {"fps": fps, "latency_p50_ms": float(p50), "latency_p99_ms": float(p99),
                "model_p50_ms": float(np.median(model)) if model else float("nan"),
                "node_p50_ms": float(np.median(node)) if node else float("nan")}

    def diagnostic_status(self, name: str, hardware_id: str, warning: str | None, **values: str) -> DiagnosticStatus:
        """The node's /diagnostics entry: WARN with ``warning`` when there is one, else OK; the rolling figures,
        ``values`` (backend, command, frame counters) and every ``errors.<kind>`` counter. A figure that cannot
        be measured reads ``n/a: <why>``: latency while the newest frame's stamp is not on the node's clock, all of
        them before the first frame."""
        figures = self.snapshot()
        with self._lock:
            errors, frames_in = dict(self.errors), self.frames_in
            other_clock = bool(self._latency_ms) and math.isnan(self._latency_ms[-1])
        shown = {k: NO_FRAME if math.isnan(v) else f"{v:.1f}" for k, v in figures.items() if k != "fps"}
        if other_clock:
            shown.update(latency_p50_ms=OTHER_CLOCK, latency_p99_ms=OTHER_CLOCK)
        listed = {"fps": f"{figures['fps']:.2f}", **shown, "frames_received": str(frames_in), **values,
                  **{f"errors.{k}": str(v) for k, v in sorted(errors.items())}}
        return DiagnosticStatus(level=DiagnosticStatus.WARN if warning else DiagnosticStatus.OK, name=name,
                                message=warning or "segmenting", hardware_id=hardware_id,
                                values=[KeyValue(key=k, value=v) for k, v in listed.items()])
