"""A bag as a stream of camera frames: each colour image with the depth, camera_info and ground truth stamped
like it (within a tolerance, as lts_node pairs them) and the command in force, with its ground-truth target set,
the scene's appearance family and the tracking episode where the bag has them. Streams in log-time order, holding
only the frames still open."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lts_ros.bag.format import COLOR_TYPES, COMPRESSED_IMAGE, BagTopics
from lts_ros.bag.io import bag_topics, read_messages
from lts_ros.data.tabletop.scene import TARGET_SETS
from lts_ros.errors import LtsError
from lts_ros.ros import conversions


@dataclass
class BagFrame:
    stamp_ns: int
    rgb: np.ndarray
    command: str | None
    depth_m: np.ndarray | None = None
    K: np.ndarray | None = None
    gt_mask: np.ndarray | None = None
    gt_centroid: np.ndarray | None = None
    target_set: str | None = None  # the command's ground truth: none | one | several (None: not in the bag)
    appearance: str | None = None  # the scene's appearance family (docs/appearance-families.md; None: not in the bag)
    episode: str | None = None  # the tracking episode ("<kind> <seed>"; None: not in the bag)
    unoccluded_mask: np.ndarray | None = None  # tracking episodes: the object's pixels were nothing in front of it
    lookalike_mask: np.ndarray | None = None  # tracking episodes: its look-alike's pixels
    messages: list = field(default_factory=list)  # (topic, stamp_ns, msg) read for it, commands included


@dataclass
class FrameStats:
    frames: int = 0
    unused: dict[str, int] = field(default_factory=dict)  # topic -> messages matching no colour frame
    bad: dict[str, int] = field(default_factory=dict)  # topic -> messages that could not be decoded


def check_topics(path: str | Path, topics: BagTopics) -> dict[str, str]:
    """The bag's topics (topic -> message type), after checking the colour topic is there (Image or
    CompressedImage) and every expected topic has its type."""
    found = bag_topics(path)
    if topics.color not in found:
        compressed = f"{topics.color}/compressed"
        hint = f"--topics color={compressed}" if compressed in found else "--topics color=/your/topic"
        raise LtsError(f"{path} has no colour topic {topics.color} (topics: {', '.join(sorted(found)) or 'none'}; "
                       f"rename with {hint})")
    for topic, msgtype in topics.types().items():
        allowed = COLOR_TYPES if topic == topics.color else (msgtype,)
        if topic in found and found[topic] not in allowed:
            raise LtsError(f"{path}: {topic} carries {found[topic]}, expected {' or '.join(allowed)}")
    return found


def read_frames(path: str | Path, topics: BagTopics = BagTopics(), tolerance_s: float = 0.05,
                stats: FrameStats | None = None) -> Iterator[BagFrame]:
    """Colour frames of the bag at ``path`` with their companions; ``stats`` (if given) counts what was left."""
    compressed = check_topics(path, topics)[topics.color] == COMPRESSED_IMAGE
    decode_color = conversions.rgb_from_compressed if compressed else conversions.rgb_from_image
    stats = stats if stats is not None else FrameStats()
    tolerance_ns = int(tolerance_s * 1e9)
    masks = {topics.gt_mask: "gt_mask", topics.gt_unoccluded: "unoccluded_mask", topics.gt_lookalike: "lookalike_mask"}
    companions = {topics.depth, topics.camera_info, topics.gt_centroid, *masks}
    open_frames: list[BagFrame] = []
    loose: list[tuple[str, object]] = []  # companions that came before their colour frame
    command, target_set, appearance, episode = None, None, None, None  # in force
    commands = []  # command messages not yet handed to a frame
    command_topics = (topics.command, topics.gt_target_set, topics.gt_appearance, topics.gt_episode)

    def attach(frame: BagFrame, topic: str, msg) -> None:
        try:
            if topic == topics.depth:
                frame.depth_m = conversions.depth_from_image(msg)
            elif topic == topics.camera_info:
                frame.K = np.asarray(msg.k, np.float64).reshape(3, 3)
            elif topic in masks:
                setattr(frame, masks[topic], conversions.image_to_array(msg) > 0)
            else:
                frame.gt_centroid = np.array([msg.point.x, msg.point.y, msg.point.z])
        except conversions.ImageError:
            stats.bad[topic] = stats.bad.get(topic, 0) + 1
            return
        frame.messages.append((topic, conversions.stamp_ns(msg.header), msg))

    def close(before_ns: int | None) -> Iterator[BagFrame]:
        while open_frames and (before_ns is None or open_frames[0].stamp_ns < before_ns - tolerance_ns):
            frame = open_frames.pop(0)
            stats.frames += 1
            yield frame
        expired = [item for item in loose
                   if before_ns is None or conversions.stamp_ns(item[1].header) < before_ns - tolerance_ns]
        for topic, msg in expired:
            stats.unused[topic] = stats.unused.get(topic, 0) + 1
            loose.remove((topic, msg))

    for topic, stamp, msg in read_messages(path, {topics.color, *command_topics} | companions):
        if topic in command_topics:
            if topic == topics.command:
                command = msg.data
            elif topic == topics.gt_appearance:
                appearance = msg.data
            elif topic == topics.gt_episode:
                episode = msg.data
            elif msg.data in TARGET_SETS:
                target_set = msg.data
            else:
                stats.bad[topic] = stats.bad.get(topic, 0) + 1
                continue
            commands.append((topic, stamp, msg))
            continue
        yield from close(stamp)
        if topic == topics.color:
            try:
                frame = BagFrame(conversions.stamp_ns(msg.header), decode_color(msg), command, target_set=target_set,
                                 appearance=appearance, episode=episode)
            except conversions.ImageError:
                stats.bad[topic] = stats.bad.get(topic, 0) + 1
                continue
            frame.messages += [*commands, (topic, frame.stamp_ns, msg)]
            commands.clear()
            for item in [i for i in loose
                         if abs(conversions.stamp_ns(i[1].header) - frame.stamp_ns) <= tolerance_ns]:
                attach(frame, *item)
                loose.remove(item)
            open_frames.append(frame)
            continue
        msg_ns = conversions.stamp_ns(msg.header)
        match = min(open_frames, key=lambda f: abs(f.stamp_ns - msg_ns), default=None)
        if match is not None and abs(match.stamp_ns - msg_ns) <= tolerance_ns:
            attach(match, topic, msg)
        else:
            loose.append((topic, msg))
    yield from close(None)
