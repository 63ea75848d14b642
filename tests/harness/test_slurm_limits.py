"""A job's time limit on the real SLURM: a preemption signal long before the limit of a job with
a short limit (5 minutes) is recorded as a preemption, never as a timeout."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.harness.conftest import wait_for
from tests.harness.test_slurm_faults import (
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
