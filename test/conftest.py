"""Shared fixtures: a generated refer-format dataset and a trained tiny checkpoint."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lts_ros.data.refer_fixture import write_refer_fixture

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def refer_root(tmp_path_factory) -> Path:
    return write_refer_fixture(tmp_path_factory.mktemp("refer"), n_images=6, seed=0)


@pytest.fixture(scope="session")
def tabletop_root(tmp_path_factory) -> Path:
    """Small tabletop splits rendered once per session: test (6 scenes, the first of the official test
    split) and val (16 scenes, for int8 calibration and variant checks)."""
    from lts_ros.data.tabletop import store

    root = tmp_path_factory.mktemp("tabletop")
    store.render_split(root, "test", 6, workers=2, progress=False)
    store.render_split(root, "val", 16, workers=2, progress=False)
    return root


@pytest.fixture(scope="session")
def edge_export(tabletop_root, tmp_path_factory) -> Path:
    """The shipped edge model exported to ONNX, with its fp16 and both int8 variants (calibrated on val)."""
    from lts_ros.checkpoint import shipped_checkpoint
    from lts_ros.export.calibration import load_frames
    from lts_ros.artifacts.export_manifest import VARIANTS
    from lts_ros.runtime.compile.onnx_export import export_onnx
    from lts_ros.export.precision import add_variants

    export_dir = export_onnx(shipped_checkpoint(), tmp_path_factory.mktemp("edge") / "onnx").export_dir
    add_variants(export_dir, VARIANTS, load_frames(tabletop_root / "val", 64), "val")
    return export_dir


@contextlib.contextmanager
def tiny_checkpoint(path: Path):
    """The tiny model with seeded random weights saved at ``path``; torch single-threaded for the block, so what
    is exported from it inside is reproducible."""
    import torch

    from lts_ros.checkpoint import save_checkpoint
    from lts_ros.model.build import build_model
    from lts_ros.model.text import WordTokenizer

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    try:
        vocab = WordTokenizer.build(["the red mug on the left", "blue cup"], 12).vocab
        yield save_checkpoint(build_model("tiny", vocab), path)
    finally:
        torch.set_num_threads(threads)


def run_lts(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the ``lts`` CLI in a fresh process, as a user would."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "lts_ros.cli", *args], capture_output=True, text=True,
                          cwd=cwd or REPO, env=env, timeout=timeout)
