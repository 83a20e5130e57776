"""Which camera QoS pairings deliver large frames between two processes on this host, with FastDDS defaults
and with config/fastdds.xml in the publisher: the measurement behind lts_node's ``image_reliability``
default. ``python -m lts_ros.bench.dds`` prints the table and writes it into docs/benchmarks.md."""
from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from lts_ros.bench.report import check_section, machine_info, save, table
from lts_ros.errors import LtsError, run_command
from lts_ros.ros.harness.domain import isolated_env, without_profile

RELIABILITY = ("reliable", "best_effort")
SIZES = ((480, 640), (720, 1280))


def publish(reliability: str, height: int, width: int, frames: int) -> None:
    """The publisher process: wait for the subscriber, send ``frames`` rgb8 frames, linger so they can arrive."""
    import rclpy
    from sensor_msgs.msg import Image

    from lts_ros.ros.conversions import fill_image
    from lts_ros.ros.qos import camera_qos

    rclpy.init()
    node = rclpy.create_node("dds_bench_publisher")
    publisher = node.create_publisher(Image, "image", camera_qos(reliability))
    deadline = time.monotonic() + 10
    while publisher.get_subscription_count() == 0 and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)
    frame = fill_image(Image(), np.zeros((height, width, 3), np.uint8), "rgb8")
    for _ in range(frames):
        publisher.publish(frame)
        rclpy.spin_once(node, timeout_sec=0.2)
    time.sleep(1.0)
    node.destroy_node()
    rclpy.shutdown()


def delivered(publisher: str, subscriber: str, size: tuple[int, int], profile: bool, frames: int) -> int:
    """Frames a ``subscriber`` subscription in this process (FastDDS defaults) receives from a ``publisher``
    process, which runs with config/fastdds.xml when ``profile``."""
    from sensor_msgs.msg import Image

    from lts_ros.ros.harness.participant import Participant
    from lts_ros.ros.qos import camera_qos

    env = isolated_env(profile)
    graph = Participant(without_profile(env), "dds_bench_subscriber")
    received = []
    graph.node.create_subscription(Image, "image", received.append, camera_qos(subscriber))
    process = subprocess.Popen([sys.executable, "-m", "lts_ros.bench.dds", "--publish", publisher,
                                f"{size[1]}x{size[0]}", str(frames)], env=env)
    try:
        graph.spin_until(lambda: process.poll() is not None, math.inf)
        graph.spin_for(0.5)
    finally:
        process.kill()
        graph.close()
    return len(received)


def measure(frames: int) -> list[dict]:
    rows = []
    for height, width in SIZES:
        for profile in (False, True):
            for publisher in RELIABILITY:
                for subscriber in RELIABILITY:
                    count = delivered(publisher, subscriber, (height, width), profile, frames)
                    rows.append({"size": f"{width}x{height}", "publisher_profile": profile, "publisher": publisher,
                                 "subscriber": subscriber, "delivered": count, "sent": frames})
                    print(f"{width}x{height} profile={profile!s:<5} {publisher:>11} -> {subscriber:<11} "
                          f"{count}/{frames}", flush=True)
    return rows


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [f"Measured {m['date_utc']} on {m['cpu']} ({m['os']}), two processes on one host, FastDDS "
             f"(rmw_fastrtps_cpp), rgb8 frames, {result['rows'][0]['sent']} sent per case; the subscriber always "
             "runs with FastDDS defaults. Incompatible QoS (best_effort publisher, reliable subscriber) never "
             "matches by design.", ""]
    rows = [[r["size"], "config/fastdds.xml" if r["publisher_profile"] else "defaults", r["publisher"],
             r["subscriber"], f"{r['delivered']}/{r['sent']}"] for r in result["rows"]]
    lines.append(table(["frame", "publisher's FastDDS", "publisher", "subscriber", "delivered"], rows))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lts_ros.bench.dds", description=__doc__)
    parser.add_argument("--frames", type=int, default=5, help="frames sent per case")
    parser.add_argument("--out", type=Path, default=Path("runs/bench/dds.json"))
    parser.add_argument("--markdown", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--no-markdown", action="store_true")
    parser.add_argument("--publish", nargs=3, metavar=("RELIABILITY", "WxH", "FRAMES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.publish:
        reliability, size, frames = args.publish
        width, height = (int(v) for v in size.split("x"))
        publish(reliability, height, width, int(frames))
        return 0
    def run() -> None:
        if args.frames < 1:
            raise LtsError(f"--frames must be >= 1, got {args.frames}")
        doc = None if args.no_markdown else args.markdown
        if doc is not None:
            check_section(doc, "dds")
        result = {"machine": machine_info(0), "rows": measure(args.frames)}
        save(result, args.out, doc, "dds", markdown(result))

    return run_command("lts bench dds", run)


if __name__ == "__main__":
    sys.exit(main())
