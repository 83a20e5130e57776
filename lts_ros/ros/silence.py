"""How long the camera topic has been silent while someone publishes on it, in plain Python (no ROS).

Silence is counted from the latest of: the node's activation, the last frame received, and the appearance of the
oldest publisher still on the topic. A publisher that appeared a second ago has not been silent for the node's
whole life; one that has been there for a minute without a frame has, whoever joined since."""
from __future__ import annotations

from collections.abc import Iterable


class CameraSilence:
    def __init__(self, active_since: float):
        self.active_since = active_since
        self._first_seen: dict[bytes, float] = {}  # publisher gid -> when it was first seen (monotonic s)

    def silent_for(self, publishers: Iterable[bytes], now: float, last_frame_at: float | None) -> float | None:
        """Seconds without a frame while ``publishers`` (their gids, as seen ``now``) are on the topic; None when
        there is none. Call it regularly: a publisher counts from the first call that sees it."""
        self._first_seen = {gid: self._first_seen.get(gid, now) for gid in publishers}
        if not self._first_seen:
            return None
        since = max(self.active_since, min(self._first_seen.values()),
                    last_frame_at if last_frame_at is not None else self.active_since)
        return now - since
