"""Shared fixtures: keep every test off the network and out of $HOME."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _offline_wandb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """W&B never reaches the network and never writes under $HOME during tests."""
    wb = tmp_path / "_wandb"
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for var in ("WANDB_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_CONFIG_DIR"):
        monkeypatch.setenv(var, str(wb / var.lower()))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)


@pytest.fixture(scope="session")
def slurm_cluster() -> str:
    """The single-node SLURM of slurm/cluster.sh; a slurm-marked test fails (not skips) without
    it, because .ci/run starts it and a silent skip would hide a broken cluster script."""
    if shutil.which("sinfo") is None:
        pytest.fail("no sinfo on PATH: run `slurm/cluster.sh up --accounting` first")
    out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    if out.returncode != 0 or ("idle" not in out.stdout and "mix" not in out.stdout):
        pytest.fail(
            f"SLURM is not up ({out.stderr.strip() or out.stdout.strip()}): "
            "run `slurm/cluster.sh up --accounting` first"
        )
    return os.environ.get("LORS_SLURM_PARTITION", "debug")
