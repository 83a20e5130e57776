"""``python -m lts_ros.bench.ros_load``: a short real run (lts_node in its own process, frames over DDS) and
its report, plus the usage errors. Timing verdicts are not asserted: they depend on the machine."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def ros_load(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", AMENT_PREFIX_PATH=os.environ.get("AMENT_PREFIX_PATH") or sys.prefix)
    return subprocess.run([sys.executable, "-m", "lts_ros.bench.ros_load", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=timeout)


def test_a_short_run_reports_every_figure_and_bar(tmp_path):
    out = tmp_path / "x.json"
    proc = ros_load("--seconds", "5", "--rate-factor", "2", "--no-markdown", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(out.read_text())
    assert {"cpu", "logical_cores", "date_utc"} <= result["machine"].keys()
    model = result["model"]
    assert model["single_ms"] > 0 and model["segment_ms"] > 0
    assert model["lock_tracked"] == model["lock_frames"] > 0 and 0 < model["lock_ms_p50"] <= model["lock_ms_p90"]
    unloaded, loaded = result["unloaded"], result["loaded"]
    assert unloaded["masks"] > 0 and unloaded["overhead_ms"] is not None
    assert 0 < unloaded["model_ms"] <= unloaded["node_ms"] < unloaded["latency_ms"]["max"]  # the node's own timings
    assert unloaded["node_path_ms"] >= 0 and unloaded["transport_ms"] > 0
    assert result["floor"]["masks"] > 0 and result["floor"]["hold_ms"] == model["single_ms"]  # the bare rclpy node
    assert loaded["target_rate_hz"] > 0
    assert loaded["frames_published"] > 0 and loaded["masks_received"] > 0
    assert loaded["masks_received"] <= loaded["frames_published"]
    assert 0 < loaded["model_ms_p50"] <= loaded["node_ms_p50"]  # the node's own timings under load
    assert all(0 < cores <= result["machine"]["logical_cores"] for cores in loaded["cpu_cores"].values())
    latency = loaded["latency_ms"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
    diagnostics = result["diagnostics"]
    assert diagnostics["frames_received"] is not None and diagnostics["frames_dropped"] >= 0
    assert result["lost_in_transit"] == (loaded["frames_published"] - loaded["masks_received"]
                                         - diagnostics["frames_dropped"])
    rss = loaded["rss"]
    assert len(rss["samples"]) >= 5 and all(mib > 0 for _, mib in rss["samples"])
    assert rss["growth_mib"] == pytest.approx(rss["end_mib"] - rss["start_mib"])
    assert result["node"]["alive_at_end"] is True and result["node"]["exit_code"] == 0
    bars = {b["name"]: b for b in result["bars"]}
    assert set(bars) == {"latency_p99", "output_rate", "rss_growth", "no_crash", "node_overhead"}
    assert all(isinstance(b["met"], bool) and b["measured"] for b in bars.values())
    assert bars["no_crash"]["met"] is True
    assert "met" in proc.stdout and str(out) in proc.stdout  # the printed summary
    assert f"followed {model['lock_frames']} of {model['lock_frames']}" in proc.stdout


def test_help_explains_the_options():
    proc = ros_load("--help", timeout=60)
    assert proc.returncode == 0
    for option in ("--seconds", "--rate-factor", "--size", "--backend", "--out", "--markdown", "--no-markdown"):
        assert option in proc.stdout


def test_user_mistakes_are_one_line_and_exit_2(tmp_path):
    for args, fragment in ((["--size", "640by480"], "--size"), (["--seconds", "0"], "--seconds"),
                           (["--markdown", str(tmp_path / "none.md")], "--no-markdown")):
        proc = ros_load(*args, "--out", str(tmp_path / "x.json"), timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and fragment in proc.stderr, proc.stderr
        assert not (tmp_path / "x.json").exists()
