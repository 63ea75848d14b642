"""End to end on the local executor: launch, records, W&B run ids, relaunch (one that follows
live runs too), kill and resume."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness.executors import job_alive
from harness.plan import make_plan
from harness.records.store import read_raw
from harness.spec import load_spec
from tests.harness.conftest import REPO, launch, one_cell_spec, wait_for


def _journal(runs: Path, sweep: str) -> list[dict]:
    path = runs / sweep / "smoke" / ".journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_launch_local_then_nothing_left(tmp_path: Path, tiny_spec: Path) -> None:
    runs = tmp_path / "runs"
    first = launch(str(tiny_spec), "--executor", "local", "--runs-dir", str(runs), "--poll", "1")
    assert first.returncode == 0, first.stderr
    lanes = min(2, len(os.sched_getaffinity(0)))  # 1-core runs: one lane per core by default
    assert f"submitted 2 cells as {lanes} local jobs" in first.stdout
    assert "2/2 runs done" in first.stdout
    plan = make_plan(load_spec(tiny_spec), "smoke", runs)
    for pc in plan.cells:
        assert pc.status == "done"
        rec = read_raw(pc.run_dir / "record.json")
        assert rec["wandb"] == {"id": pc.run_id, "mode": "offline", "dir": "wandb", "synced": False}
        offline = list((pc.run_dir / "wandb").glob("offline-run-*"))
        assert [d.name.rsplit("-", 1)[1] for d in offline] == [pc.run_id]
        assert (offline[0] / f"run-{pc.run_id}.wandb").is_file()
        assert rec["params"]["total"] > 0 and rec["history"][-1]["iter"] == 20
        assert rec["run_dir"] == f"tiny-test/smoke/{pc.run_dir.name}"
    journal_before = _journal(runs, "tiny-test")
    second = launch(str(tiny_spec), "--executor", "local", "--runs-dir", str(runs))
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "nothing left to submit (2 done)"
    assert _journal(runs, "tiny-test") == journal_before


@pytest.mark.slow
def test_killed_run_resumes_in_place(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    spec_path = one_cell_spec(tmp_path, delay=0.25, iters=40)
    started = launch(str(spec_path), "--executor", "local", "--runs-dir", str(runs), "--detach")
    assert started.returncode == 0, started.stderr
    pc = make_plan(load_spec(spec_path), "smoke", runs).cells[0]

    def checkpointed() -> bool:  # a checkpoint at iteration 10 or later, training not over
        marker = pc.run_dir / "last_checkpoint"
        found = re.search(r"iter_(\d+)", marker.read_text()) if marker.is_file() else None
        return found is not None and 10 <= int(found[1]) < 40

    wait_for(checkpointed, what="a checkpoint at iteration 10")
    rec = read_raw(pc.run_dir / "record.json")
    os.kill(rec["attempts"][0]["pid"], signal.SIGKILL)
    job = f"local:{rec['attempts'][0]['job_id']}"
    wait_for(lambda: not job_alive([job])[job], what="the killed job to end")
    assert (
        make_plan(load_spec(spec_path), "smoke", runs, alive=job_alive).cells[0].status == "failed"
    )

    again = launch(str(spec_path), "--executor", "local", "--runs-dir", str(runs))
    assert again.stdout.startswith("nothing left to submit (1 failed); --retry"), again.stdout
    resumed = launch(
        str(spec_path), "--executor", "local", "--runs-dir", str(runs), "--retry", "--poll", "1"
    )
    assert resumed.returncode == 0, resumed.stderr
    rec = read_raw(pc.run_dir / "record.json")
    first, second = rec["attempts"]
    assert first["exit"] == "killed" and second["exit"] == "completed"
    assert second["resumed_from_iter"] >= 10 and rec["status"] == "done"
    assert rec["history"][-1]["iter"] == 40
    offline = sorted((pc.run_dir / "wandb").glob("offline-run-*"))
    assert len(offline) == 2 and {d.name.rsplit("-", 1)[1] for d in offline} == {pc.run_id}
    assert [
        p.name for p in runs.joinpath("one", "smoke").iterdir() if not p.name.startswith(".")
    ] == [pc.run_dir.name]


@pytest.mark.slow
@pytest.mark.parametrize("kill", [False, True], ids=["run-completes", "run-killed"])
def test_relaunch_follows_live_runs(tmp_path: Path, kill: bool) -> None:
    runs = tmp_path / "runs"
    spec_path = one_cell_spec(tmp_path, delay=0.25, iters=40)  # about 10 s of training
    args = [str(spec_path), "--executor", "local", "--runs-dir", str(runs), "--poll", "1"]
    args += ["--wandb", "disabled"]
    started = launch(*args, "--detach")
    assert started.returncode == 0, started.stderr
    pc = make_plan(load_spec(spec_path), "smoke", runs).cells[0]
    out = tmp_path / "relaunch.log"
    with out.open("w") as log:
        relaunch = subprocess.Popen(
            [sys.executable, "-m", "harness.launch", *args],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        try:
            wait_for(lambda: "following 1 runs" in out.read_text(), 120, "the relaunch to follow")
            if kill:
                rec = wait_for(lambda: (r := read_raw(pc.run_dir / "record.json")) and r.get(
                    "attempts") and r, 120, "the run to start")  # fmt: skip
                os.kill(rec["attempts"][0]["pid"], signal.SIGKILL)
            code = relaunch.wait(timeout=180)
        finally:
            if relaunch.poll() is None:
                relaunch.kill()
    shown = out.read_text()
    assert re.match(r"nothing left to submit \(1 (running|queued)\)\n", shown), shown
    rec = read_raw(pc.run_dir / "record.json")
    if kill:  # the followed run's end decides the exit code
        assert code == 1 and f"killed: {pc.cell.label}" in shown, shown
        assert "0/1 runs done" in shown and rec["status"] == "failed", shown
    else:
        assert code == 0 and "one/smoke: 1/1 done, 0 running, 0 queued, 0 failed" in shown, shown
        assert "1/1 runs done" in shown and rec["status"] == "done", shown
