"""``~/status``: one message per processed frame, stamped with the frame's header, saying which command it was
computed with and what was found. Standard types only (no interface package is built here): a
``diagnostic_msgs/DiagnosticArray`` whose header is the frame's and whose one status carries typed-as-text
key/values. ``FrameStatus.from_msg`` reads it back for clients (the bag replay, the grasp client, tests)."""
from __future__ import annotations

from dataclasses import dataclass

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

from lts_ros.ros.conversions import stamp_ns
from lts_ros.runtime.result import SEEN, STATUSES, Result

STATES = STATUSES  # found | not_found | ambiguous, and with lock-on tracking | lost | reacquired


def _numbers(text: str) -> tuple[float, ...] | None:
    return tuple(float(v) for v in text.split()) if text else None


@dataclass(frozen=True)
class FrameStatus:
    stamp_ns: int
    frame_id: str
    command: str
    command_seq: int  # the command's arrival number at the node: tells apart two sends of the same text
    state: str  # found | not_found | ambiguous
    score: float  # the model's probability that the named object is in view
    several_score: float  # its probability that the command names more than one object
    bbox: tuple[int, int, int, int] | None  # x0 y0 x1 y1 pixels, inclusive
    centroid_px: tuple[float, float] | None  # u v pixels
    centroid_m: tuple[float, float, float] | None  # x y z metres, camera optical frame; found with valid 3D only
    no_centroid_reason: str  # why a found target has no 3D centroid ("" otherwise)
    candidates: tuple[tuple[int, int, int, int], ...]  # bbox of each separate object in the prediction
    node_ms: float  # frame received -> status built, in the node
    model_ms: float  # of which the model: Segmenter.segment() (preprocess, inference, postprocess)
    reading: str = ""  # how the command was read: "mug | 2nd from left" (lts_ros.language)
    reason: str = ""  # why the answer is ambiguous, or not_found where the reader or a rule says
    # Lock-on (runtime/lock_on.py), once the command was answered found; None before, and with lock_on false.
    track_id: int | None = None  # a new one per command
    track_age_s: float | None = None  # since the track started (frame stamps)
    last_seen_s: float | None = None  # stamp (s) of the last frame the object was seen in: this one unless lost
    unseen_s: float | None = None  # this frame's stamp - last_seen_s (0 while seen)
    last_bbox: tuple[int, int, int, int] | None = None  # where it was last seen (that frame's pixels)
    last_centroid_px: tuple[float, float] | None = None
    last_centroid_m: tuple[float, float, float] | None = None  # as last seen, camera frame of that frame

    @property
    def found(self) -> bool:
        """The object is seen in this frame (found, tracking, reacquired): mask, box and centroid are current."""
        return self.state in SEEN

    @classmethod
    def from_msg(cls, msg: DiagnosticArray) -> "FrameStatus":
        values = {kv.key: kv.value for kv in msg.status[0].values}
        bbox = _numbers(values["bbox"])
        last_bbox = _numbers(values.get("last_bbox", ""))
        track = {key: float(values[key]) if values.get(key) else None
                 for key in ("track_age_s", "last_seen", "unseen_s")}
        return cls(stamp_ns(msg.header), msg.header.frame_id, values["command"], int(values["command_seq"]),
                   values["state"], float(values["score"]), float(values["several_score"]),
                   None if bbox is None else tuple(int(v) for v in bbox),
                   _numbers(values["centroid_px"]), _numbers(values["centroid_m"]), values["no_centroid_reason"],
                   tuple(tuple(int(v) for v in box.split()) for box in values["candidates"].split(";") if box),
                   float(values["node_ms"]), float(values["model_ms"]), values.get("reading", ""),
                   values.get("reason", ""), int(values["track_id"]) if values.get("track_id") else None,
                   track["track_age_s"], track["last_seen"], track["unseen_s"],
                   None if last_bbox is None else tuple(int(v) for v in last_bbox),
                   _numbers(values.get("last_centroid_px", "")), _numbers(values.get("last_centroid_m", "")))


def _joined(values, fmt: str) -> str:
    return "" if values is None else " ".join(format(float(v), fmt) for v in values)


def track_values(result: Result) -> dict[str, str]:
    """The lock-on keys: empty strings before the command was answered found (or with lock-on off)."""
    track = result.track
    if track is None:
        return dict.fromkeys(("track_id", "track_age_s", "last_seen", "unseen_s", "last_bbox", "last_centroid_px",
                              "last_centroid_m"), "")
    return {"track_id": str(track.track_id), "track_age_s": f"{track.age_s:.3f}",
            "last_seen": f"{track.last_seen_s:.9f}", "unseen_s": f"{track.unseen_s:.3f}",
            "last_bbox": " ".join(str(v) for v in track.last_bbox),
            "last_centroid_px": _joined(track.last_centroid_px, ".2f"),
            "last_centroid_m": _joined(track.last_centroid_3d, ".5f")}


def status_message(header, name: str, command: str, command_seq: int, result: Result, no_centroid_reason: str,
                   node_ms: float, model_ms: float, reading: str = "") -> DiagnosticArray:
    """The frame's status. Level OK: it reports the node's health, the answer is in ``state``; ``reading``: how
    the command was read, ``reason``: why it is "which one?", or not found where the reader or a rule says."""
    found = result.found
    centroid = result.centroid_3d if found else None
    values = {
        "command": command, "command_seq": str(command_seq), "state": result.status,
        "score": f"{result.score:.4f}", "several_score": f"{result.several_score:.4f}",
        "bbox": " ".join(str(v) for v in result.bbox) if found and result.bbox else "",
        "centroid_px": " ".join(f"{v:.2f}" for v in result.centroid_px) if found and result.centroid_px else "",
        "centroid_m": "" if centroid is None else " ".join(f"{v:.5f}" for v in centroid),
        "no_centroid_reason": no_centroid_reason if found and centroid is None else "",
        "candidates": ";".join(" ".join(str(v) for v in c.bbox) for c in result.candidates),
        "node_ms": f"{node_ms:.2f}", "model_ms": f"{model_ms:.2f}", "reading": reading, "reason": result.reason,
        **track_values(result),
    }
    status = DiagnosticStatus(level=DiagnosticStatus.OK, name=name, message=values["state"],
                              hardware_id=header.frame_id,
                              values=[KeyValue(key=k, value=v) for k, v in values.items()])
    return DiagnosticArray(header=header, status=[status])
