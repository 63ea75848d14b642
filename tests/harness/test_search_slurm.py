"""A study through the real single-node SLURM: its trials' runs go out as job arrays, and the jobs
are counted from SLURM itself (``sacct``): one array task per distinct config, all COMPLETED."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.harness.conftest import REPO

pytestmark = pytest.mark.slurm
TINY = REPO / "tests" / "harness" / "tiny" / "search.yaml"


def test_study_runs_as_slurm_arrays(tmp_path: Path, slurm_cluster: str) -> None:
    spec = tmp_path / "search.yaml"
    spec.write_text(TINY.read_text().replace("trials: 6", "trials: 4"))
    runs = tmp_path / "runs"
    out = subprocess.run(
        [sys.executable, "-m", "harness.search", str(spec), "--runs-dir", str(runs),
         "--executor", "slurm", "--poll", "1", "--wandb", "disabled"],
        capture_output=True, text=True, cwd=REPO, timeout=600, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert (
        "study tiny-search/smoke: 4 complete, 0 pruned, 0 failed (0 infeasible) of 4 trials"
        in out.stdout
    )
    records = [json.loads(p.read_text()) for p in runs.rglob("record.json")]
    jobs = [a["job_id"] for r in records for a in r["attempts"]]
    assert all(a["executor"] == "slurm" for r in records for a in r["attempts"])
    assert len(jobs) == len(set(jobs)) == len(records)  # one job per distinct config
    assert all("_" in j for j in jobs)  # array tasks: <array id>_<index>
    # SLURM's own trace of each task it started: the log srun opens for it (all there is
    # without accounting); with sacct, every task COMPLETED
    logs = sorted(p.parent.name for p in runs.rglob(".submitit/*/*_log.out"))
    assert logs == sorted(jobs), (logs, jobs)
    if subprocess.run(["sacct", "-n", "-X", "-S", "now-1minutes"], capture_output=True).returncode:
        return
    deadline = time.monotonic() + 120  # a task records its result a moment before it ends
    while True:
        acct = subprocess.run(
            ["sacct", "-X", "-n", "-P", "-o", "JobID,State", "-j", ",".join(jobs)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        states = dict(line.split("|") for line in acct.stdout.split())
        if all(states.get(j) not in (None, "PENDING", "RUNNING", "COMPLETING") for j in jobs):
            break
        assert time.monotonic() < deadline, acct.stdout
        time.sleep(1)
    assert {j: states.get(j) for j in jobs} == dict.fromkeys(jobs, "COMPLETED"), acct.stdout
