"""lts_node's outputs as a client sees them: subscriptions (reliable, like ``ros2 topic echo``) to its output
topics and /diagnostics, each message keyed by its header stamp with its first arrival on this node's clock."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import PointStamped
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from visualization_msgs.msg import Marker

from lts_ros.ros.conversions import stamp_ns

OUTPUTS = {"status": DiagnosticArray, "mask": Image, "centroid": PointStamped, "marker": Marker, "overlay": Image}
DEPTH = 100


class Recorder:
    """``outputs`` (names in OUTPUTS, under ``/<lts_node>/``) and /diagnostics on ``node``. Messages are kept for
    the outputs named in ``keep`` (default: all); of the others only arrival times (a benchmark's masks would pile
    up). /diagnostics is always kept."""

    def __init__(self, node: Node, outputs: tuple[str, ...] = tuple(OUTPUTS), lts_node: str = "lts_node",
                 keep: tuple[str, ...] | None = None):
        self._clock = node.get_clock()
        self.received: dict[str, list] = defaultdict(list)  # name -> messages, in arrival order
        self.arrived_ns: dict[str, dict[int, int]] = defaultdict(dict)  # name -> header stamp -> first arrival
        self._by_stamp: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))
        qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=DEPTH, reliability=ReliabilityPolicy.RELIABLE)
        topics = {name: (OUTPUTS[name], f"/{lts_node}/{name}", keep is None or name in keep) for name in outputs}
        topics["diagnostics"] = (DiagnosticArray, "/diagnostics", True)
        self.subscriptions = {name: node.create_subscription(kind, topic, self._record(name, kept), qos)
                              for name, (kind, topic, kept) in topics.items()}

    def _record(self, name: str, keep: bool) -> Callable:
        def record(msg) -> None:
            stamp = stamp_ns(msg.header)
            self.arrived_ns[name].setdefault(stamp, self._clock.now().nanoseconds)
            if keep:
                self.received[name].append(msg)
                self._by_stamp[name][stamp].append(msg)
        return record

    def outputs_for(self, name: str, stamp: int) -> list:
        """What lts_node published on ``name`` for the frame stamped ``stamp`` (ns)."""
        return list(self._by_stamp[name].get(stamp, ()))

    def first(self, name: str, stamp: int):
        """The first message on ``name`` for the frame stamped ``stamp`` (ns), or None."""
        return next(iter(self._by_stamp[name].get(stamp, ())), None)

    def diagnostics(self) -> dict[str, str]:
        """The latest lts_node status on /diagnostics, as a dict (plus 'level' and 'message')."""
        for array in reversed(self.received["diagnostics"]):
            if (status := node_status(array)) is not None:
                level = int.from_bytes(status.level, "little") if isinstance(status.level, bytes) else status.level
                return {"level": int(level), "message": status.message, **status_values(status)}
        return {}

    def diagnostics_after(self, stamp: int) -> dict[str, str] | None:
        """The values of lts_node's first /diagnostics status stamped at or after ``stamp`` (ns), or None."""
        return next((status_values(status) for array in list(self.received["diagnostics"])
                     if stamp_ns(array.header) >= stamp and (status := node_status(array)) is not None), None)


def node_status(array: DiagnosticArray) -> DiagnosticStatus | None:
    """lts_node's entry in a /diagnostics message, if any."""
    return next((status for status in array.status if status.name.startswith("lts_node")), None)


def status_values(status: DiagnosticStatus) -> dict[str, str]:
    return {kv.key: kv.value for kv in status.values}
