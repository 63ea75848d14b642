"""The jobs of the SLURM fault tests: a one-cell spec of the tiny workload, a launcher following
it in the background (the ``launched`` fixture cancels what a failed test left queued), and what
SLURM itself says of a job (squeue, sacct), its run folder and record."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from harness.plan import PlannedCell, make_plan
from harness.records.store import read_raw
from harness.spec import load_spec
from tests.harness.conftest import REPO, TINY_DIR, wait_for, write_spec

HEARTBEAT_S = 5.0  # harness.job.heartbeat.HEARTBEAT_S (not imported: it would import mmengine)

SPEC = """
name: faults
base: BASE
default_profile: smoke
profiles:
  smoke:
    overrides: {OVERRIDES}
    resources: {gpus: 0, cpus: 1, mem_gb: 2, timeout_min: LIMIT}
axes:
  axis: hidden
  key: model.hidden
  values: [4]
"""


def _spec(
    folder: Path,
    delay: float,
    iters: int,
    base: str = "tiny_config.py",
    limit_min: int = 10,
    **model: Any,
) -> Path:
    overrides = {"model.step_delay_s": delay, "train_cfg.max_iters": iters}
    overrides |= {f"model.{k}": v for k, v in model.items()}
    body = ", ".join(
        f"{k}: {v!r}" if isinstance(v, str) else f"{k}: {v}" for k, v in overrides.items()
    )
    text = SPEC.replace("OVERRIDES", body).replace("BASE", str(TINY_DIR / base))
    text = text.replace("LIMIT", str(limit_min))
    return write_spec(folder, text, name="faults.yaml")


def accounting() -> bool:
    """Whether sacct answers (slurm/cluster.sh up --accounting)."""
    out = subprocess.run(["sacct", "-n", "-X", "-S", "now-1minutes"], capture_output=True)
    return out.returncode == 0


class Launcher:
    """``python -m harness.launch`` in the background, following its runs (not detached)."""

    def __init__(self, spec: Path, runs: Path, *extra: str, cwd: Path = REPO) -> None:
        self.out = runs.parent / f"launch-{time.monotonic_ns()}.log"
        args = [sys.executable, "-m", "harness.launch", str(spec), "--executor", "slurm"]
        args += ["--runs-dir", str(runs), "--poll", "2", *extra]
        with self.out.open("w") as fh:
            self.proc = subprocess.Popen(args, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT)

    def wait(self, timeout: float) -> tuple[int, str]:
        code = self.proc.wait(timeout=timeout)
        return code, self.out.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def launched(tmp_path: Path):
    """Starts launchers; afterwards stops them and cancels what a failed test left queued."""
    started: list[Launcher] = []

    def start(spec: Path, *extra: str, cwd: Path = REPO) -> Launcher:
        started.append(Launcher(spec, tmp_path / "runs", *extra, cwd=cwd))
        return started[-1]

    yield start
    for launcher in started:
        launcher.stop()
    journal = tmp_path / "runs" / "faults" / "smoke" / ".journal.jsonl"
    tokens = (
        set(re.findall(r'"token": "([^"]+)"', journal.read_text())) if journal.is_file() else ()
    )
    for token in tokens:
        subprocess.run(["scancel", f"--name=lors-{token}"], capture_output=True)


def _cell(spec: Path, runs: Path) -> PlannedCell:
    return make_plan(load_spec(spec), "smoke", runs).cells[0]


def _record(pc: PlannedCell) -> dict[str, Any]:
    return read_raw(pc.run_dir / "record.json") or {}


def _checkpoint_iter(run_dir: Path) -> int:
    marker = run_dir / "last_checkpoint"
    found = re.search(r"iter_(\d+)", marker.read_text()) if marker.is_file() else None
    return int(found[1]) if found else 0


def _t(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def _in_queue(job: str) -> bool:
    out = subprocess.run(["squeue", "-h", "-r", "-o", "%i"], capture_output=True, text=True)
    return job in out.stdout.split()


def _sacct_runs(job: str) -> list[str]:
    """Every run SLURM accounted for this job (a requeued job has one per run), oldest first."""
    out = subprocess.run(
        ["sacct", "-n", "-X", "-D", "-P", "-j", job, "-o", "State"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return out.stdout.split("\n")[:-1]


def _run_folders(runs: Path) -> list[str]:
    return sorted(
        p.name for p in (runs / "faults" / "smoke").iterdir() if not p.name.startswith(".")
    )


def _running_job(pc: PlannedCell) -> dict[str, Any]:
    """The first attempt, once training has checkpointed at iteration 10 or later."""
    wait_for(lambda: _checkpoint_iter(pc.run_dir) >= 10, 300, "a checkpoint at iteration 10")
    return _record(pc)["attempts"][0]


def preempted_then_done(
    launcher: Launcher, pc: PlannedCell, job: str, iters: int
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """After a preemption signal: the launcher exits 0, the first attempt is ``preempted``, the
    same job ran again to ``completed`` and trained to ``iters``; (record, both attempts)."""
    code, out = launcher.wait(600)
    assert code == 0 and not re.search(r"failed:|[1-9] failed", out), out
    rec = _record(pc)
    preempted, resumed = rec["attempts"]
    assert preempted["exit"] == "preempted" and resumed["exit"] == "completed", rec["attempts"]
    assert preempted["job_id"] == resumed["job_id"] == job
    assert rec["status"] == "done" and rec["history"][-1]["iter"] == iters
    return rec, preempted, resumed
