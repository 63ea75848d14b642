"""A SLURM job whose training process stops (SIGSTOP: the job runs, its heartbeat is silent) is
judged stalled by the launcher that follows it, scancelled, and recorded ``stalled`` with its
last checkpoint; ``--retry`` resumes it. scancel continues the stopped process (SIGCONT, then
SIGTERM, then SIGKILL after KillWait), and what that process writes in its last seconds must not
reopen the launcher's close. Passes with and without accounting."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.harness.conftest import status_attempts, wait_for
from tests.harness.slurm_jobs import (
    _cell,
    _in_queue,
    _record,
    _run_folders,
    _running_job,
    _sacct_runs,
    _spec,
    _t,
    accounting,
    launched,
)

pytestmark = pytest.mark.slurm
STALL_S = 15
__all__ = ["launched"]  # the fixture, shared with the other fault tests


def test_a_stopped_job_is_stalled_cancelled_and_resumed(
    tmp_path: Path, slurm_cluster: str, launched, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 200 steps of 0.25 s: the continued process cannot finish within SLURM's 30 s KillWait
    spec = _spec(tmp_path, delay=0.25, iters=200)
    runs = tmp_path / "runs"
    monkeypatch.setenv("LORS_STALL_S", str(STALL_S))  # the launcher's environment
    launcher = launched(spec)
    pc = _cell(spec, runs)
    first = _running_job(pc)
    job = first["job_id"]
    os.kill(first["pid"], signal.SIGSTOP)
    stopped_at = time.time()
    code, out = launcher.wait(180)
    judged_at = time.time()
    assert code == 1 and f"stalled: {pc.cell.label}" in out, out
    wait_for(lambda: not _in_queue(job), 90, "SLURM to end the stalled job", step=0.5)
    time.sleep(6)  # a heartbeat's worth more: a late write of the continued process shows here
    rec = _record(pc)
    (attempt,) = rec["attempts"]
    assert attempt["exit"] == "stalled" and rec["status"] == "failed", attempt
    assert "no heartbeat for" in attempt["detail"] and "cancelled" in attempt["detail"], attempt
    assert rec["error_tail"].startswith("stalled:"), rec["error_tail"]
    assert _t(attempt["end"]) <= stopped_at + 1, (stopped_at, attempt)  # its last heartbeat
    took = _t(attempt["detected"]) - stopped_at
    # the limit counts from the last heartbeat, up to one beat (5 s) before the stop
    assert _t(attempt["detected"]) - _t(attempt["end"]) >= STALL_S, attempt
    assert took <= STALL_S + 30, (stopped_at, attempt)
    assert rec["checkpoint"] and (pc.run_dir / rec["checkpoint"]).is_file()
    ((cause, line),) = status_attempts(spec, runs)
    assert cause == "stalled" and "no heartbeat for" in line, line
    if accounting():
        assert _sacct_runs(job) == ["CANCELLED by 0"]
    print(f"stalled: judged {took:.1f} s after the stop (limit {STALL_S} s), "
          f"launcher exited {judged_at - stopped_at:.1f} s after it")  # fmt: skip
    monkeypatch.delenv("LORS_STALL_S")
    resumed = launched(spec, "--retry")
    code, out = resumed.wait(600)
    assert code == 0, out
    rec = _record(pc)
    assert [a["exit"] for a in rec["attempts"]] == ["stalled", "completed"], rec["attempts"]
    again = rec["attempts"][1]
    assert again["job_id"] != job and again["resumed_from_iter"] >= 10, again
    assert rec["status"] == "done" and rec["history"][-1]["iter"] == 200
    assert _run_folders(runs) == [pc.run_dir.name]
