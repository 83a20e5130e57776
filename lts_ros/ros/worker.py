"""One worker thread that always processes the newest submitted item: callbacks never block, a slow model
drops stale frames (counted) instead of queueing them."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestWorker(Generic[T]):
    def __init__(self, process: Callable[[T], None], on_error: Callable[[Exception], None], name: str = "lts-worker"):
        self._process, self._on_error = process, on_error
        self._pending: T | None = None
        self._condition = threading.Condition()
        self._running = True
        self.dropped = 0  # items replaced by a newer one before they were processed
        self.processed = 0
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: T) -> None:
        """Hand over ``item``; an item still waiting is replaced (and counted as dropped)."""
        with self._condition:
            if self._pending is not None:
                self.dropped += 1
            self._pending = item
            self._condition.notify()

    def _loop(self) -> None:
        while True:
            with self._condition:
                while self._running and self._pending is None:
                    self._condition.wait()
                if not self._running:
                    return
                item, self._pending = self._pending, None
            try:
                self._process(item)
            except Exception as exc:  # noqa: BLE001 - the worker must outlive any bad frame
                self._on_error(exc)
            self.processed += 1

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop after the item in progress (a waiting one is discarded) and join the thread."""
        with self._condition:
            self._running = False
            self._pending = None
            self._condition.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)
