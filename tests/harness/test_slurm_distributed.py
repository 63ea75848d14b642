"""The smoke detector trained by two processes (``tasks: 2``, gloo on CPU) through the real
single-node SLURM, preempted by ``scancel --signal=USR2`` (both tasks get the signal) and resumed
from its checkpoint by the same job: one record, one W&B run, one checkpoint series, both
attempts with their 2 processes; counted from SLURM (sacct, with accounting). And one task's
training process killed (kill -9): the job ends in seconds and rank 0's record names the rank."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.harness.conftest import status_attempts, wait_for, write_spec
from tests.harness.slurm_jobs import (
    _cell,
    _checkpoint_iter,
    _in_queue,
    _record,
    _run_folders,
    _sacct_runs,
    accounting,
    launched,
    preempted_then_done,
)

pytestmark = pytest.mark.slurm
__all__ = ["launched"]  # the fixture, shared with the fault tests

REPO = Path(__file__).resolve().parents[2]
ITERS = 40
SPEC = f"""
name: faults
base: {REPO / "configs" / "smoke" / "adamixer_lors_smoke.py"}
default_profile: smoke
profiles:
  smoke:
    overrides: {{train_cfg.max_iters: {ITERS}, train_cfg.val_interval: {ITERS},
                default_hooks.checkpoint.interval: 10,
                synthetic_data.num_train: 200, synthetic_data.num_val: 40}}
    resources: {{gpus: 0, cpus: 2, mem_gb: 4, timeout_min: 10, tasks: 2}}
axes:
  axis: r
  key: model.roi_head.lors_cfg.adaptive_rank
  values: [4]
"""


def test_two_process_smoke_detector_preempted_and_resumed(
    tmp_path: Path, slurm_cluster: str, launched, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = write_spec(tmp_path, SPEC, name="faults.yaml")
    # the launch makes the smoke data under its working folder, not the checkout's data/; the
    # run id hashes that data, so the test plans from the same folder
    launcher = launched(spec, "--wandb", "offline", cwd=tmp_path)
    monkeypatch.chdir(tmp_path)
    journal = tmp_path / "runs" / "faults" / "smoke" / ".journal.jsonl"
    wait_for(lambda: journal.is_file() and "submitted" in journal.read_text(), 180, "the submit")
    pc = _cell(spec, tmp_path / "runs")
    job = wait_for(lambda: _checkpoint_iter(pc.run_dir) >= 10 and _record(pc)["attempts"], 420,
                    "the first checkpoint")[0]["job_id"]  # fmt: skip
    subprocess.run(["scancel", "--signal=USR2", job], check=True)
    rec, preempted, resumed = preempted_then_done(launcher, pc, job, ITERS)
    assert preempted["processes"] == resumed["processes"] == 2, rec["attempts"]
    assert resumed["resumed_from_iter"] >= 10
    assert rec["metrics"].get("bbox_mAP") is not None, rec["metrics"]
    offline = sorted((pc.run_dir / "wandb").glob("offline-run-*"))
    assert len(offline) == 2 and {d.name.rsplit("-", 1)[1] for d in offline} == {pc.run_id}
    saved = sorted(p.name for p in pc.run_dir.glob("*.pth"))
    assert saved and all(name.startswith("iter_") for name in saved), saved
    assert f"iter_{ITERS}.pth" in saved
    assert _run_folders(tmp_path / "runs") == [pc.run_dir.name]
    # two tasks in each attempt, one log per task (submitit appends the second attempt's)
    logs = sorted(p.name for p in (pc.run_dir.parent / ".submitit").glob("*/*_log.out"))
    assert logs == [f"{job}_0_log.out", f"{job}_1_log.out"], logs
    wait_for(lambda: not _in_queue(job), 60, "the finished job to leave the queue", step=0.5)
    if accounting():
        assert _sacct_runs(job) == ["REQUEUED", "COMPLETED"]


def test_a_killed_task_ends_the_job_and_rank_0_names_it(
    tmp_path: Path, slurm_cluster: str, launched
) -> None:
    from tests.harness.test_distributed import SPEC as TWO

    spec = write_spec(tmp_path, TWO.replace("max_iters: 30", "max_iters: 400"), name="faults.yaml")
    spec.write_text(spec.read_text().replace("name: two", "name: faults"))
    launcher = launched(spec)
    pc = _cell(spec, tmp_path / "runs")
    beat = pc.run_dir / ".ranks" / "rank-1"
    wait_for(lambda: _checkpoint_iter(pc.run_dir) >= 5 and beat.is_file(), 300, "a checkpoint")
    job = _record(pc)["attempts"][0]["job_id"]
    pid = int(beat.read_text().split()[1])  # rank 1's training process, inside SLURM's task 1
    killed_at = time.time()
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not _in_queue(job), 60, "SLURM to end the job", step=0.5)
    gone_in = time.time() - killed_at
    code, out = launcher.wait(120)
    assert code == 1 and f"killed: {pc.cell.label}" in out, out
    rec = _record(pc)
    (attempt,) = rec["attempts"]
    assert attempt["exit"] == "killed" and attempt["processes"] == 2, attempt
    assert f"rank 1 of job {job} died: its process {pid} is gone" in attempt["detail"], attempt
    assert rec["checkpoint"] and (pc.run_dir / rec["checkpoint"]).is_file()
    assert gone_in <= 30, gone_in
    ((cause, line),) = status_attempts(spec, tmp_path / "runs")
    assert cause == "killed" and "(2 processes)" in line and "rank 1 of job" in line, line
    assert _run_folders(tmp_path / "runs") == [pc.run_dir.name]
    if accounting():
        assert len(_sacct_runs(job)) == 1  # one job, run once, never resubmitted
    print(f"task 1 killed: the job left the queue {gone_in:.1f} s later")
