"""This process's side of an isolated graph: an rclpy context, one node and its executor in the domain of an
``env`` from ``domain.isolated_env``, spun here (``spin_until``) or in a thread of its own."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

from lts_ros.ros.harness.domain import dds_environment


class Participant:
    """``node``: a node name, or ``node(context)`` building one (a Node subclass) in the participant's context."""

    def __init__(self, env: dict[str, str], node: str | Callable[[Context], Node]):
        with dds_environment(env):  # rclpy.init and the first node read the domain and profile
            self.context = Context()
            rclpy.init(context=self.context)
            self.node = rclpy.create_node(node, context=self.context) if isinstance(node, str) else node(self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._thread: threading.Thread | None = None

    def spin_in_background(self) -> None:
        """Spin in a thread of its own from now on: a message is handled (and timed) when it arrives, not when the
        caller's loop gets round to it. ``spin_until`` then only waits."""
        self._thread = threading.Thread(target=self._spin, name=f"{self.node.get_name()}-spin", daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        try:
            self.executor.spin()
        except Exception:  # noqa: BLE001 - shutdown from the main thread may end spin with an error
            pass

    def spin_until(self, predicate: Callable[[], bool], timeout_s: float = 30.0, every_s: float = 0.05) -> bool:
        """Spin (or, spun in the background, wait) until ``predicate()`` holds, for at most ``timeout_s``,
        looking every ``every_s``; its last value."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            if predicate():
                return True
            if self._thread is None:
                self.executor.spin_once(timeout_sec=min(every_s, left))
            else:
                time.sleep(min(every_s, left))
        return predicate()

    def spin_for(self, seconds: float, every_s: float = 0.05) -> None:
        self.spin_until(lambda: False, seconds, every_s)

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=5)
        if self._thread is not None:
            self._thread.join(5)
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)
