"""Write and read lts_ros bags (rosbag2, mcap or sqlite3) with ``rosbags``: no ROS installation needed, and
readable by ``ros2 bag play`` and Foxglove."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.rosbag2.errors import ReaderError, WriterError

from lts_ros.bag import format as fmt
from lts_ros.bag.format import TYPESTORE, BagTopics
from lts_ros.errors import LtsError

STORAGE = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}


class BagWriter:
    """``with BagWriter(path) as bag: bag.write_command(t, "the red mug"); bag.write_frame(t, rgb, ...)``."""

    def __init__(self, path: str | Path, topics: BagTopics = BagTopics(), storage: str = "mcap",
                 extra_topics: dict[str, str] | None = None, color_format: str = "raw"):
        if storage not in STORAGE:
            raise LtsError(f"unknown bag storage '{storage}' (use {', '.join(STORAGE)})")
        if color_format not in fmt.COLOR_FORMATS:
            raise LtsError(f"unknown colour format '{color_format}' (use {', '.join(fmt.COLOR_FORMATS)})")
        self.path, self.topics, self.color_format = Path(path), topics, color_format
        color_type = fmt.IMAGE if color_format == "raw" else fmt.COMPRESSED_IMAGE
        self._types = {**topics.types(color_type), **(extra_topics or {})}  # topic -> message type
        if self.path.exists():
            raise LtsError(f"{self.path} already exists: choose another --out or remove it")
        self._writer = Writer(self.path, version=9, storage_plugin=STORAGE[storage])
        self._connections: dict = {}

    def __enter__(self) -> "BagWriter":
        try:
            self._writer.open()
        except (WriterError, OSError) as exc:
            raise LtsError(f"cannot write the bag {self.path}: {exc}") from None
        self._connections = {topic: self._writer.add_connection(topic, msgtype, typestore=TYPESTORE)
                             for topic, msgtype in self._types.items()}
        return self

    def __exit__(self, *exc) -> None:
        self._writer.close()

    def write(self, topic: str, msg, stamp_ns: int) -> None:
        """``msg`` (a ``format`` message) on ``topic``, logged at ``stamp_ns``."""
        connection = self._connections[topic]
        self._writer.write(connection, int(stamp_ns), TYPESTORE.serialize_cdr(msg, connection.msgtype))

    def write_command(self, stamp_ns: int, text: str, target_set: str | None = None,
                      appearance: str | None = None, episode: str | None = None) -> None:
        """A command, and with ground truth how many objects it names (``none``/``one``/``several``), the
        scene's appearance family and the tracking episode it starts, at one log time."""
        self.write(self.topics.command, fmt.string(text), stamp_ns)
        for topic, value in ((self.topics.gt_target_set, target_set), (self.topics.gt_appearance, appearance),
                             (self.topics.gt_episode, episode)):
            if value is not None:
                self.write(topic, fmt.string(value), stamp_ns)

    def write_frame(self, stamp_ns: int, rgb: np.ndarray, depth_m: np.ndarray | None, K: np.ndarray,
                    depth_encoding: str = "16UC1", gt_mask: np.ndarray | None = None,
                    gt_centroid: np.ndarray | None = None, unoccluded_mask: np.ndarray | None = None,
                    lookalike_mask: np.ndarray | None = None) -> None:
        """One camera frame (colour, camera_info, aligned depth) and its ground truth, all with one stamp; the
        colour raw rgb8 or compressed, as the writer's ``color_format``."""
        t = self.topics
        self.write(t.camera_info, fmt.camera_info(K, rgb.shape[1], rgb.shape[0], stamp_ns), stamp_ns)
        if depth_m is not None:
            self.write(t.depth, fmt.depth_image(depth_m, depth_encoding, stamp_ns), stamp_ns)
        color = fmt.image(rgb, "rgb8", stamp_ns) if self.color_format == "raw" else \
            fmt.compressed_image(rgb, self.color_format, stamp_ns)
        self.write(t.color, color, stamp_ns)
        for topic, mask in ((t.gt_mask, gt_mask), (t.gt_unoccluded, unoccluded_mask), (t.gt_lookalike, lookalike_mask)):
            if mask is not None:
                self.write(topic, fmt.image(mask.astype(np.uint8) * 255, "mono8", stamp_ns), stamp_ns)
        if gt_centroid is not None:
            self.write(t.gt_centroid, fmt.point(gt_centroid, stamp_ns), stamp_ns)


def read_messages(path: str | Path, topics: set[str] | None = None) -> Iterator[tuple[str, int, object]]:
    """(topic, log time ns, decoded message) in log-time order, for ``topics`` (default: all). LtsError
    names the problem for a missing, corrupt or truncated bag."""
    path = Path(path)
    if not path.exists():
        raise LtsError(f"bag not found: {path}")
    try:
        with Reader(path) as reader:
            connections = [c for c in reader.connections if topics is None or c.topic in topics]
            for connection, stamp_ns, raw in reader.messages(connections=connections):
                try:
                    msg = TYPESTORE.deserialize_cdr(raw, connection.msgtype)
                except Exception as exc:  # a truncated or foreign payload: many decoder error types
                    raise LtsError(f"{path}: cannot decode a {connection.msgtype} message on {connection.topic} "
                                   f"at {stamp_ns} ns ({type(exc).__name__})") from None
                yield connection.topic, stamp_ns, msg
    except ReaderError as exc:
        raise LtsError(f"{path} is not a readable rosbag2 bag ({exc})") from None


def bag_topics(path: str | Path) -> dict[str, str]:
    """Topic -> message type of the bag at ``path``."""
    path = Path(path)
    if not path.exists():
        raise LtsError(f"bag not found: {path}")
    try:
        with Reader(path) as reader:
            return {c.topic: c.msgtype for c in reader.connections}
    except ReaderError as exc:
        raise LtsError(f"{path} is not a readable rosbag2 bag ({exc})") from None
