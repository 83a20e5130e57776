"""How long a client waits for an arm on its way to a waypoint: while it keeps coming closer, up to a cap; once it
has come no closer for a while it is stalled (blocked, or a target it cannot reach). A wall-clock limit alone
gives up on a slow arm (a loaded machine runs the simulated cell slower than real time) as on a stuck one."""
from __future__ import annotations

import math


class Patience:
    """Fed the remaining distance to a target over time; ``waiting`` says whether to go on waiting."""

    def __init__(self, stall_s: float, cap: float, progress: float, start_s: float):
        """``stall_s``: how long without coming ``progress`` closer than ever before counts as stalled; ``cap``:
        the longest wait in all, in multiples of ``stall_s``; ``start_s``: when the wait began (monotonic s)."""
        self.stall_s, self.deadline_s, self.progress = stall_s, start_s + cap * stall_s, progress
        self.closest, self.last_progress_s = math.inf, start_s

    def waiting(self, distance: float, now_s: float) -> bool:
        """Whether to wait on, ``distance`` away from the target at ``now_s``."""
        if distance < self.closest - self.progress:
            self.closest, self.last_progress_s = distance, now_s
        return now_s - self.last_progress_s < self.stall_s and now_s < self.deadline_s
