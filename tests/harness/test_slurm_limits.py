"""A job's time limit on the real SLURM: a preemption signal long before the limit of a job with
a short limit (5 minutes) is recorded as a preemption, never as a timeout; a real limit's signal
is a timeout, requeued and resumed to the end."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.harness.conftest import status_attempts, wait_for
from tests.harness.slurm_jobs import (
    _cell,
    _checkpoint_iter,
    _in_queue,
    _record,
    _sacct_runs,
    _spec,
    accounting,
    launched,
    preempted_then_done,
)

pytestmark = pytest.mark.slurm
__all__ = ["launched"]  # the fixture, shared with the fault tests


def test_preemption_of_a_job_with_a_short_limit_is_a_preemption(
    tmp_path: Path, slurm_cluster: str, launched
) -> None:
    """submitit's preemption signal about 15 s into a job with a 5-minute limit: ``preempted``
    (the timeout signal comes 120 s before the limit, slurm/profiles/default.yaml), resumed."""
    spec = _spec(tmp_path, 0.25, 60, limit_min=5)
    launcher = launched(spec)
    pc = _cell(spec, tmp_path / "runs")
    job = wait_for(lambda: _checkpoint_iter(pc.run_dir) >= 5 and _record(pc)["attempts"], 300,
                    "the first checkpoint")[0]["job_id"]  # fmt: skip
    subprocess.run(["scancel", "--signal=USR2", job], check=True)
    preempted_then_done(launcher, pc, job, 60)
    wait_for(lambda: not _in_queue(job), 60, "the finished job to leave the queue", step=0.5)
    if accounting():
        assert _sacct_runs(job) == ["REQUEUED", "COMPLETED"]


def test_a_real_time_limit_is_a_timeout_resumed_until_the_cap(
    tmp_path: Path, slurm_cluster: str, launched
) -> None:
    """A 2-minute limit with the signal 75 s before it (SLURM sends it up to a minute early: the
    runs of this test got it 15-22 s in) and more training than any attempt can do: each
    attempt closes ``timeout`` at the signal with a checkpoint, the same job runs again from it,
    further each time, until submitit's cap of 3 timeouts; then the run is failed, saying so."""
    profile = tmp_path / "short-signal.yaml"
    profile.write_text("partition: null\nsignal_delay_s: 75\nrequest_memory: auto\n")
    spec = _spec(tmp_path, 0.25, 2000, limit_min=2)
    launcher = launched(spec, "--slurm-profile", str(profile))
    pc = _cell(spec, tmp_path / "runs")
    code, out = launcher.wait(540)
    assert code == 1 and f"failed: {pc.cell.label}" in out, out
    rec = _record(pc)
    exits = [a["exit"] for a in rec["attempts"]]
    assert exits == ["timeout"] * 4, rec["attempts"]  # 3 requeues, then submitit refuses
    assert len({a["job_id"] for a in rec["attempts"]}) == 1  # the same job, requeued
    resumed = [a["resumed_from_iter"] for a in rec["attempts"]]
    assert resumed[0] == 0 and resumed == sorted(set(resumed)), resumed  # further each time
    # the job says why submitit refused; a launcher that looks first, that it left the queue
    said = ("timed-out too many times", "left the queue after its timeout, not requeued")
    assert rec["status"] == "failed" and any(s in rec["error_tail"] for s in said), rec
    assert rec["checkpoint"] and (pc.run_dir / rec["checkpoint"]).is_file()
    assert [c for c, _ in status_attempts(spec, tmp_path / "runs")] == exits
    job = rec["attempts"][0]["job_id"]
    wait_for(lambda: not _in_queue(job), 60, "the job to leave the queue", step=0.5)
    if accounting():
        runs = _sacct_runs(job)
        assert runs[:3] == ["REQUEUED"] * 3 and len(runs) == 4, runs
    print(f"time limit: attempts {exits}, resumed from {resumed}")
