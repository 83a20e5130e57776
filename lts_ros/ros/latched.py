"""A subscription that hears every reliable publisher of a topic, volatile or transient local (latched).

DDS matches a volatile publisher (``ros2 topic pub``'s default, ``create_publisher(T, name, 10)``) only with a
volatile reader, and hands a latched publisher's last message to a late joiner only through a transient-local
reader. So: one volatile reader, always; and for each latched publisher newly seen on the topic, a transient-local
reader for ``LATCHED_READER_S`` that collects what it had published before. A message both readers get arrives
once (``SeenMessages``). While such a short-lived reader exists, volatile publishers may log one harmless
"incompatible QoS ... DURABILITY" line about it; the volatile reader still gets their messages."""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from rclpy.event_handler import QoSRequestedIncompatibleQoSInfo, SubscriptionEventCallbacks
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

LATCHED_READER_S = 3.0  # discovery, matching and the historical sample take well under this on one host


class SeenMessages:
    """Drops the second copy of a message that reached the node through two subscriptions of one topic (a
    volatile and a transient-local reader both match a latched publisher); keyed by publisher GID and
    publication sequence number."""

    def __init__(self, capacity: int = 256):
        self._seen: OrderedDict[tuple[bytes, int], None] = OrderedDict()
        self._capacity = capacity

    def first_time(self, publisher_gid: bytes | None, sequence: int | None) -> bool:
        """True the first time (gid, sequence) is seen; always True when the middleware gives neither."""
        if publisher_gid is None or sequence is None:
            return True
        key = (bytes(publisher_gid), int(sequence))
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return True


class AnyDurabilitySubscription:
    """``callback(msg, sent_ns, historical)``: ``sent_ns`` is the publisher's DDS source timestamp (wall clock,
    ns), ``historical`` True for a latched message published before this node heard the publisher.
    ``on_incompatible(policy)`` is called when a publisher cannot be matched (a best-effort one, for a reliable
    reader). Call ``poll()`` periodically (the node does so twice a second)."""

    def __init__(self, node: Node, msg_type, topic: str, callback: Callable, reliability: ReliabilityPolicy,
                 on_incompatible: Callable[[str], None] | None = None, depth: int = 10):
        self._node, self._type, self._topic, self._callback = node, msg_type, topic, callback
        self._reliability = reliability
        self._seen = SeenMessages()
        events = SubscriptionEventCallbacks(incompatible_qos=self._incompatible(on_incompatible))
        live = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=reliability,
                          durability=DurabilityPolicy.VOLATILE)
        self.live = node.create_subscription(msg_type, topic, self._receiver(False), live, event_callbacks=events)
        self._latched_readers: list[tuple[object, float]] = []  # (subscription, close at, monotonic s)
        self._latched_publishers: set[bytes] = set()  # GIDs already given a transient-local reader

    @staticmethod
    def _incompatible(report: Callable[[str], None] | None) -> Callable:
        def on_event(event: QoSRequestedIncompatibleQoSInfo) -> None:
            if report is not None:
                report(event.last_policy_kind.name.removeprefix("RMW_QOS_POLICY_"))
        return on_event

    def _receiver(self, historical: bool) -> Callable:
        def receive(msg, info) -> None:
            gid = info.get("publisher_gid")
            if self._seen.first_time(gid["data"] if gid else None, info.get("publication_sequence_number")):
                self._callback(msg, int(info.get("source_timestamp") or time.time_ns()), historical)
        return receive

    def poll(self) -> None:
        """Open a transient-local reader for each latched publisher not seen before; close expired ones."""
        now = time.monotonic()
        for reader, close_at in [r for r in self._latched_readers if r[1] <= now]:
            self._node.destroy_subscription(reader)
            self._latched_readers.remove((reader, close_at))
        publishers = self._node.get_publishers_info_by_topic(self._node.resolve_topic_name(self._topic))
        latched = {bytes(p.endpoint_gid) for p in publishers
                   if p.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL}
        if latched - self._latched_publishers:
            self._latched_publishers |= latched
            qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
            quiet = SubscriptionEventCallbacks(incompatible_qos=lambda event: None)  # volatile publishers: expected
            reader = self._node.create_subscription(self._type, self._topic, self._receiver(True), qos,
                                                    event_callbacks=quiet)
            self._latched_readers.append((reader, now + LATCHED_READER_S))

    def destroy(self) -> None:
        for reader, _ in self._latched_readers:
            self._node.destroy_subscription(reader)
        self._latched_readers = []
        self._node.destroy_subscription(self.live)
