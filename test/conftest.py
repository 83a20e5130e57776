"""Shared fixtures: a generated refer-format dataset and a trained tiny checkpoint."""
from __future__ import annotations

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


def run_lts(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the ``lts`` CLI in a fresh process, as a user would."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "lts_ros.cli", *args], capture_output=True, text=True,
                          cwd=cwd or REPO, env=env, timeout=timeout)
