"""A launcher killed with kill -9 inside the sbatch window, on the real single-node SLURM
(slurm/cluster.sh up [--accounting]): sbatch has submitted and printed the job id, submitit has
not yet moved the job pickles into place. Then the same command again. Each cell must run
exactly once: counted from SLURM itself (squeue; sacct when accounting is up), the job logs
submitit's folder gets when a task starts, the run folders and the records.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness.plan import make_plan
from harness.records.store import read_raw
from harness.spec import load_spec
from tests.harness.conftest import REPO, launch, wait_for, write_spec

pytestmark = pytest.mark.slurm

# Two cells share their resources (one array of two tasks), the third asks for a longer limit
# (a job of its own): a launch calls sbatch twice, arrays first.
SPEC = """
name: window
base: {tiny}
default_profile: smoke
profiles:
  smoke:
    overrides: {train_cfg.max_iters: 20}
    resources: {gpus: 0, cpus: 1, mem_gb: 2, timeout_min: 10}
axes:
  axis: hidden
  key: model.hidden
  values: [3, 5, {label: wide, value: 9, resources: {timeout_min: 11}}]
"""

# The real sbatch, then a kill -9 of the launcher that called it (its parent: submitit runs
# sbatch without a shell) on the Nth call: the job is in SLURM, its id printed, and the
# launcher dies before it reads the answer.
SBATCH = """#!/bin/sh
out=$(REAL "$@") || exit $?
echo "$out"
n=$(( $(cat COUNT 2>/dev/null || echo 0) + 1 ))
echo $n > COUNT
if [ "$n" = KILL_AT ]; then kill -9 $PPID; fi
"""


def _kill_at(folder: Path, call: int) -> dict[str, str]:
    """An environment whose ``sbatch`` kills its caller on the ``call``-th submission."""
    real = shutil.which("sbatch")
    assert real is not None
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    script = bin_dir / "sbatch"
    text = SBATCH.replace("REAL", real).replace("COUNT", str(folder / "sbatch-calls"))
    script.write_text(text.replace("KILL_AT", str(call)))
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def _entries(runs: Path) -> list[dict[str, Any]]:
    path = runs / "window" / "smoke" / ".journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def _queue(tokens: set[str]) -> list[tuple[str, str, str]]:
    """``(job, state, reason)`` of every task SLURM queues for these submissions."""
    names = ",".join(f"lors-{t}" for t in tokens)
    out = subprocess.run(
        ["squeue", "-h", "-r", f"--name={names}", "-o", "%i|%T|%r"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [tuple(line.split("|")) for line in out.stdout.split()]  # type: ignore[misc]


def _accounted(tokens: set[str]) -> list[tuple[str, str, str]]:
    """``(job, state, start)`` of every task sacct knows for these submissions."""
    names = ",".join(f"lors-{t}" for t in tokens)
    out = subprocess.run(
        ["sacct", "-n", "-X", "-P", f"--name={names}", "-S", "now-1hours",
         "-o", "JobID,State,Start"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [tuple(line.split("|")) for line in out.stdout.split("\n") if line]  # type: ignore[misc]


def _accounting() -> bool:
    out = subprocess.run(["sacct", "-n", "-X", "-S", "now-1minutes"], capture_output=True)
    return out.returncode == 0


def each_cell_ran_once(spec: Path, runs: Path, tokens: set[str]) -> list[tuple[str, str, str]]:
    """Every cell done by exactly one attempt of its own job, the only tasks SLURM started
    (one srun log each) those jobs, the queue empty at the end; returns sacct's rows of the
    submissions (empty without accounting), for the caller's checks of the others."""
    plan = make_plan(load_spec(spec), "smoke", runs)
    jobs = []
    for pc in plan.cells:
        rec = read_raw(pc.run_dir / "record.json")
        assert rec is not None and rec["status"] == "done", rec
        (attempt,) = rec["attempts"]
        jobs.append(attempt["job_id"])
    assert len(set(jobs)) == len(plan.cells), jobs
    folder = runs / "window" / "smoke" / ".submitit"
    assert sorted(p.parent.name for p in folder.glob("*/*_log.out")) == sorted(jobs)
    wait_for(lambda: not _queue(tokens), 60, "the finished tasks to leave the queue", 0.5)
    if not _accounting():
        return []
    rows = _accounted(tokens)
    assert sorted(j for j, state, _ in rows if state == "COMPLETED") == sorted(jobs), rows
    return rows


@pytest.fixture
def tokens(tmp_path: Path):
    """The submissions' tokens, read from the journal; afterwards whatever a failed test left
    queued is cancelled."""
    runs = tmp_path / "runs"

    def read() -> set[str]:
        return {e["token"] for e in _entries(runs)}

    yield read
    for token in read():
        subprocess.run(["scancel", f"--name=lors-{token}"], capture_output=True)


@pytest.mark.parametrize(
    ("kill_at", "held_pickled", "held_bare"),
    [(1, 0, 2), (2, 2, 1)],
    ids=["in-the-first-sbatch", "in-the-second-sbatch"],
)
def test_kill_9_inside_the_sbatch_window(
    tmp_path: Path,
    slurm_cluster: str,
    tokens,
    kill_at: int,
    held_pickled: int,
    held_bare: int,
) -> None:
    spec = write_spec(tmp_path, SPEC, name="window.yaml")
    runs = tmp_path / "runs"
    args = [str(spec), "--executor", "slurm", "--runs-dir", str(runs), "--poll", "1"]
    args += ["--wandb", "disabled"]
    crashed = launch(*args, env=_kill_at(tmp_path, kill_at), timeout=120)
    assert crashed.returncode == -9, crashed.stdout + crashed.stderr
    assert [e["event"] for e in _entries(runs)] == ["submitting"]
    (first,) = tokens()
    left = _queue({first})
    # every task SLURM took is held: none started, none could die for want of its pickle
    assert len(left) == held_pickled + held_bare, left
    assert all(state == "PENDING" and reason == "JobHeldUser" for _, state, reason in left), left
    folder = runs / "window" / "smoke" / ".submitit"
    pickled = [j for j, _, _ in left if (folder / j / f"{j}_submitted.pkl").is_file()]
    assert len(pickled) == held_pickled, (left, pickled)

    started = time.monotonic()
    log = (tmp_path / "relaunch.log").open("w")
    relaunch = subprocess.Popen(
        [sys.executable, "-m", "harness.launch", *args],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        wait_for(lambda: len(_entries(runs)) > 1, 120, "the relaunch to resolve it", 0.1)
        resolved_s = time.monotonic() - started
        code = relaunch.wait(timeout=300)
    finally:
        if relaunch.poll() is None:
            relaunch.kill()
        log.close()
    out = (tmp_path / "relaunch.log").read_text()
    assert code == 0, out
    events = [e["event"] for e in _entries(runs)]
    resolved = "recovered" if held_pickled else "abandoned"
    assert events == ["submitting", resolved, "submitting", "submitted"], events
    assert f"submitted {3 - held_pickled} cells" in out, out  # the cancelled and the unsent
    if held_pickled:
        assert f"following {held_pickled} runs submitted earlier" in out, out
    assert "3/3 runs done" in out and "window/smoke: 3/3 done" in out, out

    plan = make_plan(load_spec(spec), "smoke", runs)
    jobs = []
    for pc in plan.cells:
        rec = read_raw(pc.run_dir / "record.json")
        assert rec is not None and rec["status"] == "done", rec
        (attempt,) = rec["attempts"]  # ran once: never started twice, never died at start
        assert attempt["exit"] == "completed", attempt
        jobs.append(attempt["job_id"])
    assert len(set(jobs)) == 3, jobs
    folders = [p.name for p in (runs / "window" / "smoke").iterdir() if p.name[0] != "."]
    assert sorted(folders) == sorted(pc.run_dir.name for pc in plan.cells)
    # a task writes its log when SLURM starts it: three tasks ever started, the records' own
    started_jobs = sorted(p.parent.name for p in folder.glob("*/*_log.out"))
    assert started_jobs == sorted(jobs), (started_jobs, jobs)
    every = tokens()
    # nothing left held: the queue empties once the finished tasks exit
    wait_for(lambda: not _queue(every), 60, "the finished tasks to leave the queue", 0.5)
    if _accounting():  # sacct never lists a task cancelled while held (it was never eligible)
        rows = _accounted(every)
        done = sorted(j for j, state, _ in rows if state == "COMPLETED")
        assert done == sorted(jobs), rows
        others = [(j, state, start) for j, state, start in rows if state != "COMPLETED"]
        assert all(s.startswith("CANCELLED") and t in ("None", "Unknown") for _, s, t in others)
    print(f"sbatch window (kill at sbatch {kill_at}): relaunch resolved it in {resolved_s:.1f} s")
