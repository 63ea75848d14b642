"""A job whose training process stops (SIGSTOP: alive, in the queue, silent) is judged stalled
once its heartbeat has been silent for ``LORS_STALL_S``: the harness ends the job, records the
attempt ``stalled`` with its last checkpoint, and ``--retry`` resumes it from there."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.executors import job_alive
from harness.plan import make_plan
from harness.records.store import read_raw
from harness.spec import load_spec
from tests.harness.conftest import launch, one_cell_spec, wait_for

STALL_S = 15


@pytest.mark.slow
@pytest.mark.extended  # 45-60 s; its real-SLURM twin runs in the slurm suite
def test_a_stopped_training_process_is_stalled_ended_and_resumed(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    spec = one_cell_spec(tmp_path, delay=0.25, iters=40)
    args = [str(spec), "--executor", "local", "--runs-dir", str(runs), "--wandb", "disabled"]
    assert launch(*args, "--detach").returncode == 0
    pc = make_plan(load_spec(spec), "smoke", runs).cells[0]

    def checkpointed() -> bool:
        marker = pc.run_dir / "last_checkpoint"
        found = re.search(r"iter_(\d+)", marker.read_text()) if marker.is_file() else None
        return found is not None and 10 <= int(found[1]) < 40

    wait_for(checkpointed, what="a checkpoint at iteration 10")
    attempt = read_raw(pc.run_dir / "record.json")["attempts"][0]
    os.kill(attempt["pid"], signal.SIGSTOP)
    stopped_at = time.monotonic()
    job = f"local:{attempt['job_id']}"
    env = {"LORS_STALL_S": str(STALL_S)}
    early = launch(*args, env=env)  # too soon: the job runs, silent for less than the limit
    assert "nothing left to submit (1 running)" in early.stdout, early.stdout + early.stderr
    while time.monotonic() - stopped_at < STALL_S + 6:  # + the heartbeat before the stop
        time.sleep(1)
    status = subprocess.run(
        [sys.executable, "-m", "harness.status", str(spec), "--runs-dir", str(runs)],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=120,
    )  # fmt: skip
    assert "stalled" in status.stdout + status.stderr, status.stdout + status.stderr
    wait_for(lambda: not job_alive([job])[job], 30, "the stalled job to be ended")
    rec = read_raw(pc.run_dir / "record.json")
    (first,) = rec["attempts"]
    assert first["exit"] == "stalled" and rec["status"] == "failed", first
    assert "no heartbeat for" in first["detail"] and rec["checkpoint"], first
    resumed = launch(*args, "--retry", "--poll", "1")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    rec = read_raw(pc.run_dir / "record.json")
    assert [a["exit"] for a in rec["attempts"]] == ["stalled", "completed"]
    assert rec["attempts"][1]["resumed_from_iter"] >= 10 and rec["history"][-1]["iter"] == 40
