"""Attempts capped per cause: a run requeued ``LORS_MAX_REQUEUES`` times (here once: submitit's
preemption signal, as the local controller sends it) is failed by its next attempt instead of
training again, with the class ``requeues``; timeouts are capped by submitit (3)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness.plan import make_plan
from harness.records.store import read_raw
from harness.spec import load_spec
from tests.harness.conftest import REPO, launch, one_cell_spec, wait_for
from tests.harness.test_distributed import _checkpoint_iter, _tasks


@pytest.mark.slow
def test_a_run_requeued_as_often_as_allowed_fails_instead_of_training(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    spec = one_cell_spec(tmp_path, delay=0.25, iters=40)
    args = [str(spec), "--executor", "local", "--runs-dir", str(runs), "--wandb", "disabled"]
    env = {"LORS_MAX_REQUEUES": "1"}  # the lane's processes inherit it
    started = launch(*args, "--detach", env=env)
    assert started.returncode == 0, started.stderr
    token = re.search(r"token (\w+)", started.stdout)
    assert token, started.stdout
    pc = make_plan(load_spec(spec), "smoke", runs).cells[0]
    wait_for(lambda: 5 <= _checkpoint_iter(pc.run_dir) < 40, what="a checkpoint at iteration 5")
    (task,) = wait_for(lambda: _tasks(token[1]), 30, "the training process")
    os.kill(task, signal.SIGUSR2)
    followed = launch(*args, "--poll", "1", env=env)
    assert followed.returncode == 1, followed.stdout + followed.stderr
    rec = read_raw(pc.run_dir / "record.json")
    preempted, capped = rec["attempts"]
    assert preempted["exit"] == "preempted" and rec["status"] == "failed", rec["attempts"]
    assert (capped["exit"], capped["failure"]) == ("failed", "requeues"), capped
    assert "requeued 1 times (preempted 1), the cap LORS_MAX_REQUEUES=1" in rec["error_tail"]
    assert rec["history"] == [] or rec["history"][-1]["iter"] < 40  # not trained to the end
    asked = [sys.executable, "-m", "harness.status", str(spec), "--runs-dir", str(runs)]
    status = subprocess.run(asked, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert "requeued more often than LORS_MAX_REQUEUES allows" in status.stdout, status.stdout
