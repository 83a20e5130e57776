"""Benchmarks: case planning, the markdown sections, a tiny end-to-end run, the GPU script's CPU side
(bench/)."""
import argparse
import json
import shutil
import subprocess
import sys

import pytest
import torch

from conftest import REPO
from lts_ros.bench.cases import BenchCase, plan_cases, runs_on
from lts_ros.bench.compare import compare
from lts_ros.bench.compare import main as compare_main
from lts_ros.bench.gpu import MODES, measure_config
from lts_ros.bench.prepare import ensure_checkpoint, frame_gflops
from lts_ros.bench.report import bars, check_section, gpu_markdown, markers, replace_section
from lts_ros.bench.run import add_bench_arguments, run_bench
from lts_ros.bench.lock_cost import LOCK_FRAMES, PAN_PX, lock_cost, panned
from lts_ros.bench.ros_load_model import render_frame
from lts_ros.bench.worker import commands
from lts_ros.checkpoint import load_checkpoint, shipped_checkpoint
from lts_ros.errors import LtsError

DOC = REPO / "docs" / "benchmarks.md"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    return parser.parse_args(argv)


def test_defaults_plan_what_each_backend_runs_on_the_cpu():
    args = parse()
    cases = plan_cases(args.configs, args.sizes, args.backends, args.precisions)
    assert len(cases) == 2 * 3 * (2 + 3 + 3)
    assert {(c.backend, c.precision) for c in cases} == {("torch", "fp32"), ("torch", "bf16"), ("onnxruntime", "fp32"),
                                                         ("onnxruntime", "fp16"), ("onnxruntime", "int8"),
                                                         ("openvino", "fp32"), ("openvino", "bf16"), ("openvino", "int8")}
    assert cases[0] == BenchCase("edge", 256, "torch", "fp32")
    assert BenchCase("edge", 320, "onnxruntime", "int8").variant == "int8-u8s8"
    assert BenchCase("edge", 320, "torch", "bf16").variant is None
    assert BenchCase("edge", 320, "openvino", "bf16").variant is None  # OpenVINO's hint on the fp32 graph
    assert BenchCase("edge", 320, "openvino", "int8").variant == "int8-u8s8"
    assert runs_on("torch", "fp16", "cuda") and not runs_on("torch", "fp16", "cpu")


@pytest.mark.parametrize("configs, sizes, backends, precisions, fragment", [
    (["edge"], [320], ["torch"], ["int8"], "nothing to run"),
    (["edge"], [320], ["torch"], ["fp16"], "nothing to run"),
    (["edge"], [300], ["torch"], ["fp32"], "'input_size' must be a multiple of 32"),
    (["huge"], [320], ["torch"], ["fp32"], "unknown config 'huge'"),
    (["edge"], [320], ["tvm"], ["fp32"], "unknown backend(s) tvm"),
    (["edge"], [320], ["torch"], ["fp8"], "unknown precision(s) fp8"),
    (["edge"], [320], ["tensorrt"], ["fp32"], "tensorrt needs TensorRT and a CUDA GPU"),
])
def test_impossible_plans_are_refused_in_one_line(configs, sizes, backends, precisions, fragment):
    with pytest.raises(LtsError) as info:
        plan_cases(configs, sizes, backends, precisions)
    assert fragment in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("argv, fragment", [(["--frames", "1"], "--frames must be >= 2"),
                                             (["--threads", "-1"], "--threads must be >= 0")])
def test_bad_options_are_refused_before_any_work(argv, fragment, tmp_path):
    with pytest.raises(LtsError, match=fragment):
        run_bench(parse(*argv, "--work-dir", str(tmp_path / "work")))
    assert not (tmp_path / "work").exists()


def test_commands_are_distinct_and_have_their_word_count():
    for words in (3, 30):
        texts = commands(words, 8)
        assert len(set(texts)) == 8 and all(len(t.split()) == words for t in texts)


@pytest.fixture
def doc(tmp_path):
    return shutil.copy(DOC, tmp_path / "benchmarks.md")


def test_sections_are_replaced_and_the_prose_kept(doc):
    before = doc.read_text()
    for _ in range(2):  # idempotent: the markers survive
        replace_section(doc, "cpu", "| a |\n|---|\n| 1 |\n")
    text = doc.read_text()
    start, end = markers("cpu")
    assert f"{start}\n| a |\n|---|\n| 1 |\n{end}" in text
    assert text.split(start)[0] == before.split(start)[0] and text.split(end)[1] == before.split(end)[1]
    assert before.split(markers("gpu")[0])[1] == text.split(markers("gpu")[0])[1]  # the other section is untouched


def test_a_document_without_markers_is_refused(tmp_path):
    plain = tmp_path / "plain.md"
    plain.write_text("# notes\n")
    with pytest.raises(LtsError, match="no '<!-- lts-bench:gpu:start -->'"):
        replace_section(plain, "gpu", "x")
    with pytest.raises(LtsError, match="markdown file not found"):
        check_section(tmp_path / "missing.md", "cpu")
    assert plain.read_text() == "# notes\n"


def test_the_issue_bars_compare_edge_320_rows():
    def row(backend, precision, fps, size=320):
        return {"config": "edge", "size": size, "backend": backend, "precision": precision, "fps": fps}

    measured = bars([row("torch", "fp32", 10.0), row("onnxruntime", "fp32", 20.0), row("onnxruntime", "int8", 30.0),
                     row("onnxruntime", "int8", 90.0, size=416)])
    assert measured[0][1:] == ["2.00× (20.0 vs 10.0 FPS)", "met"]
    assert measured[1][1:] == ["onnxruntime int8: 30.0 FPS", "met (stretch not met)"]
    assert bars([row("torch", "fp32", 10.0)])[0][2] == "not measured in this run"
    assert measured[2][2] == "not measured in this run"
    with_openvino = bars([row("onnxruntime", "int8", 30.0), row("openvino", "bf16", 65.0), row("openvino", "fp32", 40.0)])
    assert with_openvino[2][1:] == ["2.17× (openvino bf16 65.0 vs onnxruntime int8 30.0 FPS)", "met"]
    assert bars([row("onnxruntime", "fp32", 30.0), row("openvino", "fp32", 45.0)])[2][2] == "not met"


def test_edge_runs_the_shipped_weights_at_another_size(tmp_path):
    prepared = ensure_checkpoint("edge", 256, tmp_path)
    made = prepared.checkpoint.stat().st_mtime_ns
    assert ensure_checkpoint("edge", 256, tmp_path) == prepared and prepared.checkpoint.stat().st_mtime_ns == made
    model, shipped = load_checkpoint(prepared.checkpoint), load_checkpoint(shipped_checkpoint())
    assert (prepared.weights, model.cfg.input_size, shipped.cfg.input_size) == ("shipped", 256, 320)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), shipped.state_dict().values()))
    assert 0 < prepared.gflops < frame_gflops(shipped, 320)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One tiny run end to end: render, checkpoint, export, int8 variant, three measured cases."""
    tmp = tmp_path_factory.mktemp("bench")
    doc = shutil.copy(DOC, tmp / "benchmarks.md")
    args = parse("--configs", "tiny", "--sizes", "128", "--backends", "torch", "onnxruntime", "--precisions", "fp32",
                 "int8", "--frames", "3", "--warmup", "1", "--threads", "1", "--out", str(tmp / "cpu.json"),
                 "--markdown", str(doc), "--work-dir", str(tmp / "work"))
    assert run_bench(args) == 0
    return json.loads((tmp / "cpu.json").read_text()), doc.read_text()


def test_smoke_run_measures_every_case(smoke):
    result, _ = smoke
    assert result["machine"]["threads"] == 1 and result["machine"]["logical_cores"] >= 1
    rows = result["rows"]
    assert [(r["backend"], r["precision"]) for r in rows] == [("torch", "fp32"), ("onnxruntime", "fp32"),
                                                               ("onnxruntime", "int8")]
    for r in rows:
        assert "error" not in r, r["error"]
        assert r["weights"] == "random" and r["frames"] == 3
        assert 0 < r["p50_ms"] <= r["p90_ms"] <= r["p99_ms"]
        for key in ("text_ms_3w", "text_ms_30w", "fps", "frame_ms_3w", "frame_ms_30w", "peak_rss_mib", "gflops",
                    "gflop_s", "infer_ms_p50", "lock_ms_p50"):
            assert r[key] > 0, key
        assert r["lock_frames"] == LOCK_FRAMES and 0 <= r["lock_tracked"] <= LOCK_FRAMES
    assert rows[0]["parity"] is None and 0 <= rows[2]["parity"]["mask_iou_mean"] <= 1


def test_smoke_run_writes_the_cpu_table(smoke):
    _, text = smoke
    section = text.split(markers("cpu")[0])[1].split(markers("cpu")[1])[0]
    assert "| tiny | 128 | onnxruntime | int8 | random |" in section and "not measured in this run" in section
    assert text.startswith("# Benchmarks") and "not measured (no GPU lent to this task)" in text


def test_lock_cost_follows_the_named_object_across_a_pan_and_restores_the_setting():
    from lts_ros.runtime.segmenter import Segmenter

    frame = render_frame(640, 480)
    moved = panned(frame.rgb, 2 * PAN_PX)
    assert (moved[:, :-2 * PAN_PX] == frame.rgb[:, 2 * PAN_PX:]).all()  # the scene slides left, the edge repeats
    segmenter = Segmenter.from_checkpoint(shipped_checkpoint(), backend="torch")
    figures = lock_cost(segmenter, frame.rgb, frame.command, frame.depth_mm, frame.K, frames=6)
    assert figures["lock_tracked"] == 6 and 0 < figures["lock_ms_p50"] <= figures["lock_ms_p90"]
    assert segmenter.lock_on is False
    absent = lock_cost(segmenter, frame.rgb, "the teddy bear", frames=3)
    assert absent["lock_tracked"] == 0  # nothing found, nothing followed: only the idle check was timed


def test_gpu_script_explains_itself_and_refuses_without_cuda():
    run = [sys.executable, "-m", "lts_ros.bench.gpu"]
    help_text = subprocess.run([*run, "--help"], capture_output=True, text=True, cwd=REPO)
    assert help_text.returncode == 0 and "--frames" in help_text.stdout
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is visible")
    result = subprocess.run([*run, "--no-markdown"], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "lts bench gpu: error: no CUDA GPU visible to torch (torch.cuda.is_available() is False): run this on a "
        "GPU machine with a CUDA build of torch"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is visible")
def test_gpu_failures_are_rows_of_the_gpu_table():
    rows = measure_config("tiny", 128, frames=3)  # builds on the CPU, then fails to move to CUDA
    assert [r["mode"] for r in rows] == list(MODES) and all("CUDA" in r["error"] for r in rows)
    assert rows[0]["weights"] == "random" and rows[0]["gflops"] > 0
    machine = {"date_utc": "now", "gpu": "none", "driver": "-", "cuda": "-", "cudnn": "-", "torch": torch.__version__}
    options = {"frames": 3, "warmup": 10, "tf32_convolutions": True, "json": "gpu.json"}
    table = gpu_markdown({"machine": machine, "options": options, "rows": rows}).splitlines()[2:]
    assert len(table) == 2 + len(MODES) and all(line.count("|") == 13 for line in table)
    assert table[2].startswith("| tiny | 128 | random | fp32 | failed: ")


def _slowed(result: dict, factor: float) -> dict:
    """``result`` with every measured case's p50 latency multiplied by ``factor``."""
    return {**result, "rows": [{**r, "p50_ms": r["p50_ms"] * factor} for r in result["rows"]]}


def test_compare_takes_each_sides_median_and_judges_the_tolerance(smoke):
    result, _ = smoke
    rows = compare([result, _slowed(result, 3.0), _slowed(result, 1.05)], [_slowed(result, 1.2)])
    assert [(r["backend"], r["precision"]) for r in rows] == [("onnxruntime", "fp32"), ("onnxruntime", "int8"),
                                                               ("torch", "fp32")]
    for row, original in zip(rows, sorted(result["rows"], key=lambda r: str((r["config"], r["size"], r["backend"],
                                                                              r["precision"])))):
        assert row["before_p50_ms"] == pytest.approx(original["p50_ms"] * 1.05)  # the median of 1, 3 and 1.05
        assert row["ratio"] == pytest.approx(1.2 / 1.05) and not row["within"]
        assert (row["before_runs"], row["after_runs"]) == (3, 1)
    assert all(r["within"] for r in compare([result], [_slowed(result, 1.09)]))


def test_compare_cli_writes_the_table_and_refuses_other_machines(smoke, tmp_path, capsys):
    result, text = smoke
    before, after, other = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    before.write_text(json.dumps(result))
    after.write_text(json.dumps(_slowed(result, 0.9)))
    doc = tmp_path / "doc.md"
    start, end = markers("compare")
    doc.write_text(f"# prose\n{start}\n{end}\nmore prose\n")
    assert compare_main(["--before", str(before), "--after", str(after), "--out", str(tmp_path / "cmp.json"),
                         "--markdown", str(doc), "--labels", "old", "new"]) == 0
    written = doc.read_text()
    assert "| tiny | 128 | onnxruntime | int8 |" in written and "before = old, after = new" in written
    assert written.startswith("# prose") and written.endswith("more prose\n")
    assert json.loads((tmp_path / "cmp.json").read_text())["rows"][0]["ratio"] == pytest.approx(0.9)
    other.write_text(json.dumps({**result, "machine": {**result["machine"], "cpu": "another CPU"}}))
    capsys.readouterr()
    assert compare_main(["--before", str(other), "--after", str(after), "--out", str(tmp_path / "x.json")]) == 2
    assert "different machines" in capsys.readouterr().err
    assert compare_main(["--before", str(doc), "--after", str(after), "--out", str(tmp_path / "x.json")]) == 2
    assert "cannot read bench results" in capsys.readouterr().err
