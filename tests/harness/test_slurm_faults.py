"""SLURM faults caused for real on the single-node SLURM (slurm/cluster.sh up [--accounting]):
``scontrol requeue``, submitit's preemption signal inside a checkpoint save, ``scancel`` and
``kill -9`` of the training process. Each test counts the jobs SLURM itself knows (squeue, and
sacct when accounting is up), the run folders and the records, and measures how long the harness
took to notice. They pass with and without accounting (what the record cites differs).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.harness.conftest import REPO, status_attempts, wait_for
from tests.harness.slurm_jobs import (
    HEARTBEAT_S,
    _cell,
    _checkpoint_iter,
    _in_queue,
    _record,
    _run_folders,
    _running_job,
    _sacct_runs,
    _spec,
    _t,
    accounting,
    launched,
    preempted_then_done,
)

pytestmark = pytest.mark.slurm
__all__ = ["launched"]  # the fixture, shared with the other SLURM tests


def test_scontrol_requeue_is_recorded_as_requeued(
    tmp_path: Path, slurm_cluster: str, launched
) -> None:
    # 0.4 s a step for 150 steps: more training than SLURM's 30 s kill grace after the SIGTERM
    spec = _spec(tmp_path, delay=0.4, iters=150)
    runs = tmp_path / "runs"
    launcher = launched(spec)
    pc = _cell(spec, runs)
    first = _running_job(pc)
    job = first["job_id"]
    subprocess.run(["scontrol", "requeue", job], check=True)
    closed = wait_for(lambda: (r := _record(pc))["attempts"][0]["exit"] and r, 120,
                       "the first attempt to close")  # fmt: skip
    assert closed["attempts"][0]["exit"] == "requeued", closed["attempts"]
    assert closed["status"] in ("queued", "running"), closed  # queued, or already running again
    assert _in_queue(job)  # SLURM holds it to run again: nobody may call it failed
    code, out = launcher.wait(600)
    assert code == 0 and not re.search(r"failed:|[1-9] failed", out), out
    rec = _record(pc)
    requeued, resumed = rec["attempts"]
    assert requeued["exit"] == "requeued" and resumed["exit"] == "completed", rec["attempts"]
    assert requeued["job_id"] == resumed["job_id"] == job  # the same SLURM job, run twice
    assert any(s.startswith("SIGTERM") for s in requeued["signals"])
    assert requeued["end"] <= resumed["start"] and resumed["resumed_from_iter"] >= 10
    assert rec["status"] == "done" and rec["history"][-1]["iter"] == 150
    assert _run_folders(runs) == [pc.run_dir.name]
    assert [c for c, _ in status_attempts(spec, runs)] == ["requeued", "completed"]
    wait_for(lambda: not _in_queue(job), 60, "the finished job to leave the queue", step=0.5)
    if accounting():
        assert _sacct_runs(job) == ["REQUEUED", "COMPLETED"]
    if requeued.get("detected"):  # closed from outside: the launcher saw the job pending again
        took = _t(requeued["detected"]) - _t(requeued["end"])
        print(f"requeued: the launcher closed the attempt {took:.1f} s after its last heartbeat")
    offline = sorted((pc.run_dir / "wandb").glob("offline-run-*"))
    assert {d.name.rsplit("-", 1)[1] for d in offline} == {pc.run_id}  # one W&B run, resumed


def test_preemption_signal_inside_a_checkpoint_save(
    tmp_path: Path, slurm_cluster: str, launched
) -> None:
    marker = tmp_path / "saving"
    # each checkpoint takes seconds to write; the marker says one began
    spec = _spec(tmp_path, 0.25, 40, base="tiny_slow_save.py", save_marker=str(marker))
    runs = tmp_path / "runs"
    launcher = launched(spec)
    pc = _cell(spec, runs)
    job = wait_for(lambda: _checkpoint_iter(pc.run_dir) >= 5 and _record(pc)["attempts"], 300,
                    "the first checkpoint")[0]["job_id"]  # fmt: skip
    seen = marker.stat().st_mtime_ns
    wait_for(lambda: marker.stat().st_mtime_ns != seen, 120, "the next checkpoint save")
    before = _checkpoint_iter(pc.run_dir)  # the save under way is not written yet
    signalled_at = time.time()
    subprocess.run(["scancel", "--signal=USR2", job], check=True)
    rec, preempted, resumed = preempted_then_done(launcher, pc, job, 40)
    # the save the signal landed in never finished: the next attempt resumed from the one before
    assert resumed["resumed_from_iter"] == before, (before, rec["attempts"])
    assert [c for c, _ in status_attempts(spec, runs)] == ["preempted", "completed"]
    print(
        f"preempted: the job closed its attempt {_t(preempted['end']) - signalled_at:.1f} s after"
    )
    assert _run_folders(runs) == [pc.run_dir.name]
    wait_for(lambda: not _in_queue(job), 60, "the finished job to leave the queue", step=0.5)
    if accounting():
        assert _sacct_runs(job) == ["REQUEUED", "COMPLETED"]


def test_scancel_is_recorded_as_cancelled(tmp_path: Path, slurm_cluster: str, launched) -> None:
    spec = _spec(tmp_path, delay=0.4, iters=300)
    runs = tmp_path / "runs"
    launcher = launched(spec)
    pc = _cell(spec, runs)
    job = _running_job(pc)["job_id"]
    cancelled_at = time.time()
    subprocess.run(["scancel", job], check=True)
    wait_for(lambda: not _in_queue(job), 120, "SLURM to end the cancelled job", step=0.5)
    gone_at = time.time()
    code, out = launcher.wait(120)
    assert code == 1, out
    assert f"cancelled: {pc.cell.label}" in out, out
    rec = _record(pc)
    (attempt,) = rec["attempts"]
    assert rec["status"] == "failed" and attempt["exit"] == "cancelled", attempt
    assert "ConnectionResetError" not in (rec["error_tail"] or "")  # W&B decided nothing
    if accounting():
        assert attempt["detail"].startswith("sacct: CANCELLED by 0"), attempt
        assert _sacct_runs(job) == ["CANCELLED by 0"]
    else:
        assert "SIGTERM" in attempt["detail"] and "no sacct" in attempt["detail"], attempt
    # SLURM SIGKILLs 30 s (KillWait) after the SIGTERM; the end is when the process stopped
    assert cancelled_at - 1 <= _t(attempt["end"]) <= gone_at + 1, (cancelled_at, attempt)
    assert _t(attempt["detected"]) - gone_at <= 30
    assert rec["checkpoint"] and (pc.run_dir / rec["checkpoint"]).is_file()
    assert rec["wall_time_s"] == pytest.approx(_t(attempt["end"]) - _t(attempt["start"]), abs=1)
    ((cause, line),) = status_attempts(spec, runs)
    assert cause == "cancelled" and f"slurm:{job} on " in line, line
    took = _t(attempt["detected"]) - gone_at
    print(f"cancelled: detected {took:.1f} s after the job left the queue")


def _killed_checks(rec: dict[str, Any], killed_at: float, run_dir: Path) -> dict[str, Any]:
    (attempt,) = rec["attempts"]
    assert rec["status"] == "failed" and attempt["exit"] == "killed", attempt
    # the end is the last heartbeat, at most one beat (and a save) before the kill
    assert killed_at - HEARTBEAT_S - 2 <= _t(attempt["end"]) <= killed_at + 1, (killed_at, attempt)
    assert _t(attempt["detected"]) - killed_at <= 30, (killed_at, attempt)
    assert rec["wall_time_s"] == pytest.approx(_t(attempt["end"]) - _t(attempt["start"]), abs=1)
    assert (
        re.fullmatch(r"iter_\d+\.pth", rec["checkpoint"])
        and (run_dir / rec["checkpoint"]).is_file()
    )
    assert ("sacct:" in attempt["detail"]) == accounting(), attempt
    return attempt


def test_kill_9_noticed_by_the_launcher(tmp_path: Path, slurm_cluster: str, launched) -> None:
    spec = _spec(tmp_path, delay=0.25, iters=400)
    runs = tmp_path / "runs"
    launcher = launched(spec)
    pc = _cell(spec, runs)
    first = _running_job(pc)
    os.kill(first["pid"], signal.SIGKILL)  # the training process inside the SLURM task
    killed_at = time.time()
    code, out = launcher.wait(120)
    assert code == 1 and f"killed: {pc.cell.label}" in out, out
    attempt = _killed_checks(_record(pc), killed_at, pc.run_dir)
    assert not _in_queue(first["job_id"]) and _run_folders(runs) == [pc.run_dir.name]
    print(f"killed: the launcher noticed in {_t(attempt['detected']) - killed_at:.1f} s")


def test_kill_9_noticed_by_status(tmp_path: Path, slurm_cluster: str, launched) -> None:
    spec = _spec(tmp_path, delay=0.25, iters=400)
    runs = tmp_path / "runs"
    launched(spec, "--detach").wait(120)
    pc = _cell(spec, runs)
    first = _running_job(pc)
    os.kill(first["pid"], signal.SIGKILL)
    killed_at = time.time()
    assert _record(pc)["status"] == "running"  # nobody has looked yet
    wait_for(lambda: not _in_queue(first["job_id"]), 60, "SLURM to end the job", step=0.5)
    shown = subprocess.run(
        [sys.executable, "-m", "harness.status", str(spec), "--runs-dir", str(runs)],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    attempt = _killed_checks(_record(pc), killed_at, pc.run_dir)
    row = next(line for line in shown.stdout.splitlines() if line.startswith(pc.cell.label))
    assert " killed " in row, shown.stdout
    assert f"1. slurm:{first['job_id']} on " in shown.stdout and ": killed (" in shown.stdout
    print(f"killed: harness.status closed it {_t(attempt['detected']) - killed_at:.1f} s after")
