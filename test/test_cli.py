"""The ``lts`` command as a user meets it: help texts, and one-line errors for mistakes."""
import pytest

from conftest import run_lts


@pytest.mark.parametrize("command", [["info"], ["train"], ["average"], ["eval"], ["segment"], ["demo"], ["bench"],
                                     ["export", "onnx"], ["export", "check"], ["export", "engine"],
                                     ["bag", "record-sim"], ["bag", "eval"]])
def test_every_subcommand_explains_itself(command):
    result = run_lts(*command, "--help")
    assert result.returncode == 0 and len(result.stdout) > 300


def test_info_prints_params_and_gflops_per_part():
    result = run_lts("info", "--config", "edge")
    assert result.returncode == 0, result.stderr
    for part in ("text", "vision", "fusion", "locate", "segment", "GFLOPs"):
        assert part in result.stdout


def assert_one_line_error(result, fragment):
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in result.stderr, result.stderr


def test_bad_config_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nfusion:\n  dimm: 64\n")
    assert_one_line_error(run_lts("info", "--config", str(bad)), "unknown key 'fusion.dimm'")


def test_missing_data_file(tmp_path):
    assert_one_line_error(run_lts("train", "--config", "tiny", "--data-root", str(tmp_path), "--steps", "1"),
                          str(tmp_path / "refcoco"))


def test_empty_expression_and_missing_checkpoint(tmp_path):
    assert_one_line_error(run_lts("segment", "--checkpoint", str(tmp_path / "m.safetensors"), "--image", "x.png",
                                  "--text", "  "), "expression is empty")
    assert_one_line_error(run_lts("eval", "--checkpoint", str(tmp_path / "m.safetensors"), "--data-root",
                                  str(tmp_path)), "checkpoint not found")


def test_segment_and_eval_with_a_trained_checkpoint(refer_root, tmp_path):
    run = tmp_path / "run"
    result = run_lts("train", "--config", "tiny", "--data-root", str(refer_root), "--out", str(run),
                     "--steps", "3", "--batch-size", "4", "--workers", "0", "--quiet")
    assert result.returncode == 0, result.stderr
    image = next((refer_root / "images" / "train2014").iterdir())
    overlay = tmp_path / "overlay.png"
    result = run_lts("segment", "--checkpoint", str(run / "model.safetensors"), "--image", str(image),
                     "--text", "the red circle", "--out", str(overlay))
    assert result.returncode == 0, result.stderr
    assert overlay.stat().st_size > 1000 and "score" in result.stdout and "read as: red circle (" in result.stdout
    result = run_lts("segment", "--checkpoint", str(run / "model.safetensors"), "--image", str(image),
                     "--text", "the biggest red circle", "--out", str(overlay))
    assert 'read as: red circle | biggest (the model segments "the red circle"' in result.stdout
    result = run_lts("segment", "--checkpoint", str(run / "model.safetensors"), "--image", str(image),
                     "--text", "the tallest red circle", "--out", str(overlay))
    assert result.returncode == 0 and "not read: did not understand: 'tallest red circle'" in result.stdout
    result = run_lts("eval", "--checkpoint", str(run / "model.safetensors"), "--data-root", str(refer_root),
                     "--split", "val", "--out", str(tmp_path / "eval.json"), "--grid", str(tmp_path / "grid.png"),
                     "--grid-count", "3", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "overall IoU" in result.stdout and (tmp_path / "eval.json").is_file()
    assert (tmp_path / "grid.png").stat().st_size > 5000
    assert_one_line_error(run_lts("eval", "--checkpoint", str(run / "model.safetensors"), "--data-root",
                                  str(refer_root), "--split", "testC"), "valid splits")


def test_export_onnx_fp32_only_needs_no_calibration(tmp_path):
    """The default --precision (fp32) writes and verifies the export with no frames to calibrate on."""
    from lts_ros.checkpoint import shipped_checkpoint

    out = tmp_path / "onnx"
    result = run_lts("export", "onnx", "--checkpoint", str(shipped_checkpoint()), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert {"model.json", "text.onnx", "segment.onnx"} <= {p.name for p in out.iterdir()}
    assert f"export: {out}" in result.stdout and "segment.onnx" in result.stdout


@pytest.mark.parametrize("effect, fragment", [("fog", "unknown camera effect 'fog'"), ("jpeg:7", "1 to 5")])
def test_bad_camera_effect_for_eval(tmp_path, effect, fragment):
    assert_one_line_error(run_lts("eval", "--checkpoint", "m.safetensors", "--data", "tabletop", "--data-root",
                                  str(tmp_path), "--corrupt", effect), fragment)


def test_bad_oversample_for_train(tmp_path):
    assert_one_line_error(run_lts("train", "--config", "tiny", "--data", "tabletop", "--data-root", str(tmp_path),
                                  "--oversample", "ordinal=x"), "--oversample wants KIND=N")


def test_the_occlusion_pass_is_the_head_cameras(tmp_path):
    assert "--occlusion" in run_lts("sim", "grasp", "--help").stdout
    assert_one_line_error(run_lts("sim", "grasp", "--camera", "wrist", "--occlusion", "--episodes", "1",
                                  "--out", str(tmp_path / "g")), "the occlusion pass is the head camera's case")
    assert not (tmp_path / "g").exists()  # refused before anything was written or started
