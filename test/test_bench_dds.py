"""The DDS delivery measurement behind image_reliability's default: one real case and the report."""
import subprocess
import sys

from lts_ros.bench.dds import markdown


def test_a_reliable_pairing_delivers_every_frame_between_processes():
    # In a fresh process: FastDDS reads its profile once per process, and this one's other tests want it.
    code = "from lts_ros.bench.dds import delivered; print(delivered('reliable', 'reliable', (480, 640), False, 3))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.split()[-1] == "3", result.stdout + result.stderr


def test_the_table_names_the_profile_and_counts():
    machine = {"date_utc": "2026-01-01T00:00:00+00:00", "cpu": "cpu", "os": "os"}
    rows = [{"size": "640x480", "publisher_profile": True, "publisher": "best_effort", "subscriber": "best_effort",
             "delivered": 4, "sent": 5}]
    text = markdown({"machine": machine, "rows": rows})
    assert "| 640x480 | config/fastdds.xml | best_effort | best_effort | 4/5 |" in text


def test_bad_options_are_one_line_errors():
    result = subprocess.run([sys.executable, "-m", "lts_ros.bench.dds", "--frames", "0", "--no-markdown"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "--frames must be >= 1" in result.stderr and "Traceback" not in result.stderr
