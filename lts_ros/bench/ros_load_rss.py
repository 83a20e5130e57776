"""The node's resident memory during ``python -m lts_ros.bench.ros_load``'s loaded phase: sampled in a thread from
/proc, summarised as start (after a settling time), end, growth and peak; and a process's CPU time from /proc."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from lts_ros.bench.report import proc_field
from lts_ros.ros.harness.node_process import NodeProcess

RSS_EVERY_S = 0.5
RSS_SETTLE_S = 5.0  # the RSS baseline skips the loaded phase's first 5 s, in runs of at least twice that


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (/proc/<pid>/stat); None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)


def rss_mib(pid: int) -> float | None:
    """Resident set size from /proc/<pid>/status (VmRSS, kB); None once the process is gone."""
    value = proc_field(f"/proc/{pid}/status", "VmRSS")
    return int(value.split()[0]) / 1024 if value else None


class RssSampler:
    """The node's RSS every RSS_EVERY_S in a thread: (s since start, MiB)."""

    def __init__(self, node: NodeProcess):
        self.node, self.samples = node, []
        self._stop = threading.Event()
        self._start = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="lts-load-rss", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            rss = rss_mib(self.node.pid)
            if rss is not None:
                self.samples.append((round(time.monotonic() - self._start, 3), round(rss, 2)))
            if self._stop.wait(RSS_EVERY_S):
                return

    def stop(self) -> list[tuple[float, float]]:
        self._stop.set()
        self._thread.join(5)
        return self.samples


def rss_summary(samples: list[tuple[float, float]], seconds: float) -> dict:
    """Start (the first sample after RSS_SETTLE_S when the run lasts at least twice that, else the first), end
    (the last sample), growth and peak, MiB."""
    settle = RSS_SETTLE_S if seconds >= 2 * RSS_SETTLE_S else 0.0
    baseline = next(((t, v) for t, v in samples if t >= settle), None)
    if baseline is None or len(samples) < 2:
        return {"samples": samples, "start_mib": None, "end_mib": None, "growth_mib": None,
                "peak_mib": max((v for _, v in samples), default=None), "start_at_s": None, "every_s": RSS_EVERY_S}
    end = samples[-1][1]
    return {"samples": samples, "start_mib": baseline[1], "start_at_s": baseline[0], "end_mib": end,
            "end_at_s": samples[-1][0], "growth_mib": end - baseline[1], "peak_mib": max(v for _, v in samples),
            "every_s": RSS_EVERY_S}
