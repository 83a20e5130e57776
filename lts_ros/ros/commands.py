"""Which command a frame is segmented with: the rule, in plain Python (no ROS), so it is tested without a graph.

The rule. Every command is tagged, as it arrives, with the node's clock (ROS time: the bag's clock under
``use_sim_time``) and its arrival number. A frame is segmented with the newest command that

1. arrived before the frame did (the node cannot use a command it has not seen), and
2. arrived at or before the frame's stamp: a frame captured before a command arrived is answered with the
   command that was in force when it was captured.

When a frame's stamp is more than ``clock_tolerance_ns`` away from the node's clock at its arrival, the camera
stamps on another clock (a bag replayed without ``/clock``, a device clock) and (2) is meaningless: the frame
takes the newest command that arrived before it did, and the caller counts it. Either way the choice depends
only on what arrived when, never on how fast the worker runs.

A command with empty text is a clear: the frames it applies to are not segmented."""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

CLOCK_TOLERANCE_NS = 2 * 10**9  # stamps further than this from the node's clock are taken to be another clock
HISTORY = 16  # commands kept for frames still in flight


@dataclass(frozen=True)
class Command:
    text: str  # empty: the command was cleared
    arrived_ns: int  # node clock (ROS time) when it arrived
    seq: int  # arrival order, from 1
    sent_ns: int  # the publisher's clock when it was sent (DDS source timestamp), for stale latched samples


@dataclass(frozen=True)
class Choice:
    command: Command | None  # None: the frame predates every command the node has
    other_clock: bool  # the frame's stamp is not on the node's clock: arrival order decided


class CommandLog:
    """Commands in arrival order and the rule above. Thread-safe: the executor adds, the worker chooses."""

    def __init__(self, clock_tolerance_ns: int = CLOCK_TOLERANCE_NS, history: int = HISTORY):
        self.clock_tolerance_ns = clock_tolerance_ns
        self._commands: deque[Command] = deque(maxlen=history)
        self._lock = threading.Lock()
        self._seq = 0

    def add(self, text: str, arrived_ns: int, sent_ns: int) -> Command:
        with self._lock:
            self._seq += 1
            command = Command(text, arrived_ns, self._seq, sent_ns)
            self._commands.append(command)
            return command

    @property
    def latest(self) -> Command | None:
        with self._lock:
            return self._commands[-1] if self._commands else None

    @property
    def seq(self) -> int:
        """The arrival number of the newest command: a frame records it when it arrives."""
        with self._lock:
            return self._seq

    def for_frame(self, stamp_ns: int, received_ns: int, seen_seq: int) -> Choice:
        """The command for a frame stamped ``stamp_ns`` that arrived at ``received_ns`` (node clock) after the
        commands numbered up to ``seen_seq``."""
        with self._lock:
            seen = [c for c in self._commands if c.seq <= seen_seq]
        if abs(received_ns - stamp_ns) > self.clock_tolerance_ns:
            return Choice(seen[-1] if seen else None, other_clock=True)
        return Choice(next((c for c in reversed(seen) if c.arrived_ns <= stamp_ns), None), other_clock=False)
