"""A launcher killed anywhere, or two launchers at once, never submit a cell twice."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness import journal
from harness.errors import LockError
from harness.plan import make_plan
from harness.records.store import read_raw
from harness.spec import load_spec
from tests.harness.conftest import REPO, launch, one_cell_spec


def _entries(runs: Path, sweep: str) -> list[dict]:
    path = runs / sweep / "smoke" / ".journal.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def _submitted_runs(entries: list[dict]) -> list[str]:
    """Run ids of every submission whose jobs exist (submitted or recovered)."""
    by_token = {e["token"]: e for e in entries if e["event"] == "submitting"}
    out = []
    for e in entries:
        if e["event"] in ("submitted", "recovered"):
            units = by_token[e["token"]]["units"]
            out += [r for unit, job in zip(units, e["jobs"], strict=True) if job for r in unit]
    return out


def test_journal_folds_events(tmp_path: Path) -> None:
    journal.record_submitting(tmp_path, "a", "local", [["r1", "r2"]])
    journal.record_submitting(tmp_path, "b", "slurm", [["r3"], ["r4"]])
    journal.record_submitting(tmp_path, "c", "slurm", [["r5"]])
    journal.append(tmp_path, "submitted", "a", jobs=["11"])
    journal.append(tmp_path, "recovered", "b", jobs=["7_0", ""])
    with (tmp_path / ".journal.jsonl").open("a") as fh:
        fh.write('{"event": "submitted", "tok')  # a torn line from a crash
    state = journal.read_journal(tmp_path)
    assert state.job_of("r2") == ("local", "11") and state.job_of("r3") == ("slurm", "7_0")
    assert state.job_of("r4") is None and state.job_of("r5") is None
    assert [s.token for s in state.pending()] == ["c"]


def test_lock_serialises(tmp_path: Path) -> None:
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with journal.sweep_lock(tmp_path):
            held.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(10)
    code = (
        "import sys; from pathlib import Path; from harness.journal import sweep_lock\n"
        f"with sweep_lock(Path({str(tmp_path)!r}), timeout_s=0.5): pass\n"
    )
    blocked = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert blocked.returncode != 0 and "LockError" in blocked.stderr
    release.set()
    t.join()
    with journal.sweep_lock(tmp_path, timeout_s=1):
        pass
    assert issubclass(LockError, Exception)


def _wait_done(spec_path: Path, runs: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while any(c.status != "done" for c in make_plan(load_spec(spec_path), "smoke", runs).cells):
        assert time.monotonic() < deadline, "runs did not finish"
        time.sleep(1)


@pytest.mark.slow
@pytest.mark.parametrize("point", ["after-journal", "after-submit"])
def test_killed_launcher_submits_no_cell_twice(tmp_path: Path, point: str) -> None:
    runs = tmp_path / "runs"
    spec = one_cell_spec(tmp_path, iters=10)
    args = (
        str(spec),
        "--executor",
        "local",
        "--runs-dir",
        str(runs),
        "--detach",
        "--wandb",
        "disabled",
    )
    crashed = launch(*args, env={"LORS_FAULT": point})
    assert crashed.returncode == 137, crashed.stderr
    assert [e["event"] for e in _entries(runs, "one")] == ["submitting"]
    again = launch(*args)
    assert again.returncode == 0, again.stderr
    events = [e["event"] for e in _entries(runs, "one")]
    if point == "after-journal":  # nothing reached the executor: submitted once, now
        assert events == ["submitting", "abandoned", "submitting", "submitted"]
        assert "submitted 1 cells" in again.stdout
    else:  # the lane was running: found through its environment, not submitted again
        assert events == ["submitting", "recovered"]
        assert again.stdout.startswith("nothing left to submit (1 ")
    _wait_done(spec, runs)
    assert _submitted_runs(_entries(runs, "one")) == [
        make_plan(load_spec(spec), "smoke", runs).cells[0].run_id
    ]
    rec = read_raw(make_plan(load_spec(spec), "smoke", runs).cells[0].run_dir / "record.json")
    assert len(rec["attempts"]) == 1


@pytest.mark.slow
def test_two_launches_at_once_submit_each_cell_once(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    spec = tmp_path / "two.yaml"
    spec.write_text(
        one_cell_spec(tmp_path, iters=10).read_text().replace("values: [4]", "values: [3, 5]")
    )
    args = [
        sys.executable,
        "-m",
        "harness.launch",
        str(spec),
        "--executor",
        "local",
        "--runs-dir",
        str(runs),
        "--detach",
        "--wandb",
        "disabled",
    ]
    procs = [
        subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert sorted(o[0].split()[0] for o in outs) == ["nothing", "submitted"], outs
    submitted = _submitted_runs(_entries(runs, "one"))
    assert sorted(submitted) == sorted(
        c.run_id for c in make_plan(load_spec(spec), "smoke", runs).cells
    )
    _wait_done(spec, runs)
