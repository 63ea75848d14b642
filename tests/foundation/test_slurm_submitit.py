"""A trivial submitit job goes through the real single-node SLURM and comes back."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest


def _work(a: int, b: int) -> tuple[int, str]:
    return a * b, socket.gethostname()


@pytest.mark.slurm
def test_submitit_job_runs_on_slurm(tmp_path, slurm_cluster: str) -> None:
    import submitit

    ex = submitit.AutoExecutor(folder=tmp_path / "submitit", cluster="slurm")
    ex.update_parameters(slurm_partition=slurm_cluster, timeout_min=5, cpus_per_task=1)
    job = ex.submit(_work, 6, 7)
    value, host = job.result()
    assert value == 42
    assert host == socket.gethostname()
    # submitit reads states from sacct (slurmdbd), which records the end a moment later;
    # without accounting it cannot tell (UNKNOWN), and the job must have left the queue
    if subprocess.run(["sacct", "-n", "-X", "-S", "now-1minutes"], capture_output=True).returncode:
        listed = subprocess.run(["squeue", "-h", "-j", str(job.job_id)], capture_output=True,
                                text=True)  # fmt: skip
        assert str(job.job_id) not in listed.stdout
        return
    deadline = time.monotonic() + 30
    while job.state != "COMPLETED" and time.monotonic() < deadline:
        time.sleep(1)
        job.watcher.update()
    assert job.state == "COMPLETED"
