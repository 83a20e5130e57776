"""What the grasp client did with one command, as it reports it (JSON, with the mask it acted on as a PNG beside
it): the decision, lts_node's answer, the planned grasp and where the time went."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from lts_ros.ros.status import FrameStatus
from lts_ros.sim.grasp_plan import Grasp

DECISIONS = ("grasped", "refused", "no_answer", "plan_failed", "motion_failed")


@dataclass
class Attempt:
    command: str
    decision: str = ""  # one of DECISIONS
    detail: str = ""  # why, in words
    state: str = ""  # lts_node's answer: found | not_found | ambiguous
    score: float | None = None
    stamp_ns: int | None = None  # the answered frame
    node_ms: float | None = None
    grasp: Grasp | None = None
    centroid_offset_m: float | None = None  # the node's 3D centroid from the grasp point, seen from above
    ready_s: float | None = None  # discovery: until lts_node's command reader, joint_states and camera_info appear
    answer_s: float | None = None  # command sent -> answer received
    plan_s: float | None = None
    motion_s: float | None = None
    looks: list[dict] = field(default_factory=list)  # looks during the approach: {"at": where, "state": lts_node's}
    mask: np.ndarray | None = field(default=None, repr=False)

    def answered(self, status: FrameStatus) -> None:
        self.state, self.score, self.stamp_ns, self.node_ms = status.state, status.score, status.stamp_ns, \
            status.node_ms

    def look(self, at: str, sight: tuple | None) -> None:
        """Record a look during the approach: where the hand stood (``step`` on the wrist camera's way down,
        ``in_sight`` / ``clear`` on the head camera's occlusion pass; ``out_of_reach``: the next step could not be
        reached, no look) and lts_node's answer (``no_answer`` where there is none)."""
        self.looks.append({"at": at, "state": sight[0].state if sight else "no_answer"})

    def ended(self, decision: str, detail: str) -> "Attempt":
        assert decision in DECISIONS, decision
        self.decision, self.detail = decision, detail
        return self

    def to_dict(self) -> dict:
        grasp = None if self.grasp is None else {"position": self.grasp.position.round(4).tolist(),
                                                 "yaw": round(self.grasp.yaw, 4), "width_m": round(self.grasp.width_m, 4),
                                                 "top_z": round(self.grasp.top_z, 4)}
        return {"command": self.command, "decision": self.decision, "detail": self.detail, "state": self.state,
                "score": self.score, "stamp_ns": self.stamp_ns, "node_ms": self.node_ms, "grasp": grasp,
                "centroid_offset_m": self.centroid_offset_m,
                "ready_s": self.ready_s, "answer_s": self.answer_s, "plan_s": self.plan_s, "motion_s": self.motion_s,
                "looks": self.looks}

    def write(self, path: Path) -> None:
        """``path`` (JSON) and, when there is a mask, ``path`` with suffix ``.mask.png``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1))
        if self.mask is not None:
            cv2.imwrite(str(mask_path(path)), self.mask.astype(np.uint8) * 255)


def mask_path(result: Path) -> Path:
    return result.with_suffix(".mask.png")


def read_attempt(path: Path) -> tuple[dict, np.ndarray | None]:
    """A written attempt (its dict) and its mask, if it had one (a refused command writes none)."""
    image = mask_path(path)
    mask = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE) if image.exists() else None
    return json.loads(path.read_text()), None if mask is None else mask > 0
