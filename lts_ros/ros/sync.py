"""Pair each RGB frame with the depth frame closest in time (message_filters has no wheel here)."""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class StampSync(Generic[T]):
    """Keeps the last ``history`` depth frames; ``match(stamp)`` returns the one nearest ``stamp`` within
    ``tolerance_s``, waiting up to ``wait_s`` for it (depth and colour travel on separate topics, so the
    depth of a frame may arrive just after it). None when there is none: the frame goes without depth."""

    def __init__(self, tolerance_s: float, history: int = 8):
        if tolerance_s < 0:
            raise ValueError(f"sync tolerance must be >= 0 s, got {tolerance_s}")
        self.tolerance_s = tolerance_s
        self._frames: deque[tuple[float, T]] = deque(maxlen=history)
        self._arrived = threading.Condition()
        self._last_added: float | None = None  # monotonic s

    def add(self, stamp_s: float, frame: T) -> None:
        with self._arrived:
            self._frames.append((stamp_s, frame))
            self._last_added = time.monotonic()
            self._arrived.notify_all()

    def live(self, within_s: float) -> bool:
        """Whether a frame was added in the last ``within_s`` seconds (the stream is flowing: worth waiting for)."""
        with self._arrived:
            return self._last_added is not None and time.monotonic() - self._last_added <= within_s

    def _nearest(self, stamp_s: float) -> T | None:
        best = min(self._frames, key=lambda item: abs(item[0] - stamp_s), default=None)
        return None if best is None or abs(best[0] - stamp_s) > self.tolerance_s else best[1]

    def match(self, stamp_s: float, wait_s: float = 0.0) -> T | None:
        deadline = time.monotonic() + wait_s
        with self._arrived:
            while (found := self._nearest(stamp_s)) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self._frames and self._frames[-1][0] > stamp_s + self.tolerance_s):
                    break  # out of time, or depth has moved past this frame
                self._arrived.wait(remaining)
            return found

    def latest(self) -> T | None:
        """The newest frame, whatever its stamp (None before the first)."""
        with self._arrived:
            return self._frames[-1][1] if self._frames else None
