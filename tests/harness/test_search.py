"""``python -m harness.search``: a study of the tiny workload end to end, resumed and extended; kill
-9 of the controller at three points with nothing trained twice; infeasible trials told at once
and never submitted; bad search blocks refused in one line with nothing created.

Jobs, studies and records are real (local executor, journal storage, mmengine runs); trials and
runs are counted from the study and the run folders themselves.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import optuna
import pytest
from optuna.storages.journal import JournalFileBackend

from harness.executors import make_executor
from harness.identity import profile_config
from harness.journal import read_journal
from harness.layout import submitit_dir
from harness.search.book import Book
from harness.search.budget import decoder_budget
from harness.search.controller import Controller
from harness.search.space import overrides
from harness.spec import load_spec
from harness.spec.config import apply_overrides
from tests.harness.conftest import REPO

TINY = REPO / "tests" / "harness" / "tiny" / "search.yaml"
RANKS = REPO / "sweeps" / "search" / "ranks.yaml"
STUDY = "tiny-search/smoke"


def _cmd(spec: Path, runs: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "harness.search", str(spec), "--runs-dir", str(runs),
        "--executor", "local", "--poll", "0.3", "--wandb", "disabled", *extra,
    ]  # fmt: skip


def _search(spec: Path, runs: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _cmd(spec, runs, *extra), capture_output=True, text=True, timeout=600, check=False, cwd=REPO
    )


def _study(runs: Path) -> optuna.Study:
    path = runs / "tiny-search" / "smoke" / "study.journal"
    storage = optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    return optuna.load_study(study_name=STUDY, storage=storage)


def _records(runs: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(runs.rglob("record.json"))]


def _submissions(runs: Path) -> list[str]:
    """The run ids of every unit that reached the local executor as a lane.

    A kill between journaling ``submitting`` and starting the lane leaves a unit that never ran;
    recovery finds no lane for it and frees it, so the same run is rightly journaled again. Such
    a unit must have left no lane log (the lane's shell creates it as it starts): otherwise a
    lane recovery missed ran, and its run could train twice.
    """
    sweep = runs / "tiny-search" / "smoke"
    ran = []
    for sub in read_journal(sweep).submissions:
        jobs = sub.jobs or [""] * len(sub.units)
        for i, (unit, job) in enumerate(zip(sub.units, jobs, strict=True)):
            lane_log = submitit_dir(sweep) / "lanes" / f"{sub.token}-{i}.log"
            if job:
                ran.extend(unit)
            else:
                assert not lane_log.exists(), f"unit {i} of {sub.token} ran but was freed"
    return ran


def _check_nothing_twice(runs: Path, trials: int) -> None:
    study = _study(runs)
    # a trial a kill left half-asked is closed as abandoned and asked again: it does not count
    counted = [t for t in study.trials if "abandoned" not in t.user_attrs]
    states = [t.state for t in counted]
    assert len(states) == trials and all(s == optuna.trial.TrialState.COMPLETE for s in states)
    configs = {t.params["hidden"] for t in counted}
    records = _records(runs)
    assert len(records) == len(configs)  # one run per distinct config, however many trials
    assert all(len(r["attempts"]) == 1 and r["status"] == "done" for r in records)
    submitted = _submissions(runs)
    assert sorted(submitted) == sorted(r["run_id"] for r in records)  # each run by one lane
    for r in records:
        assert r["search"]["study"] == STUDY and isinstance(r["search"]["trial"], int)


@pytest.mark.slow
def test_study_end_to_end_resumed_and_extended(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    first = _search(TINY, runs)
    assert first.returncode == 0, first.stderr
    assert (
        "study tiny-search/smoke: 6 complete, 0 pruned, 0 failed (0 infeasible) of 6 trials"
        in first.stdout
    )
    assert "best trial:" in first.stdout and "dashboard: optuna-dashboard" in first.stdout
    _check_nothing_twice(runs, 6)
    # a repeated config trains once: asked while its run is in flight it shares that run, asked
    # after it ended it reuses it ("costs nothing"); _check_nothing_twice counts the runs
    table = subprocess.run(
        [sys.executable, "analysis/make_tables.py", str(TINY), "--runs-dir", str(runs),
         "--out", str(tmp_path / "out"), "--no-figures", "--format", "md", "--show"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert table.returncode == 0, table.stderr
    rows = [line for line in table.stdout.splitlines() if line.startswith("| hidden=")]
    configs = {t.params["hidden"] for t in _study(runs).trials}
    assert len(rows) == len(configs) and sum("(front)" in r for r in rows) >= 1, table.stdout
    second = _search(TINY, runs)
    assert second.returncode == 0, second.stderr
    assert "complete (6 trials ended); nothing to train" in second.stdout
    assert "0 runs trained by this command" in second.stdout
    before = len(_records(runs))
    third = _search(TINY, runs, "--trials", "9")
    assert third.returncode == 0, third.stderr
    _check_nothing_twice(runs, 9)
    new = {t.params["hidden"] for t in _study(runs).trials[6:]} - {
        t.params["hidden"] for t in _study(runs).trials[:6]
    }
    assert len(_records(runs)) == before + len(new)


def _slow_spec(tmp_path: Path) -> Path:
    text = TINY.read_text().replace(
        "resources: {gpus: 0, cpus: 1, mem_gb: 2, timeout_min: 10}",
        "resources: {gpus: 0, cpus: 1, mem_gb: 2, timeout_min: 10}\n"
        "    overrides: {model.step_delay_s: 0.1}",
    )
    spec = tmp_path / "search.yaml"
    spec.write_text(text)
    return spec


def _kill_when(spec: Path, runs: Path, marker: str) -> str:
    """Start the controller, SIGKILL it the moment it prints ``marker``; its output so far."""
    proc = subprocess.Popen(
        _cmd(spec, runs), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO
    )
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if marker in line:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    proc.stdout.close()
    text = "".join(seen)
    assert marker in text, text
    return text


@pytest.mark.slow
def test_kill_9_of_the_controller_trains_nothing_twice(tmp_path: Path) -> None:
    spec, runs = _slow_spec(tmp_path), tmp_path / "runs"
    _kill_when(spec, runs, ": submitted run")  # runs in flight, none told
    resumed = _kill_when(spec, runs, "history.tiny/accuracy=")  # right after a tell
    assert "resuming with" in resumed and "adopted" in resumed
    _kill_when(spec, runs, "resuming with")  # before it asks or submits anything
    final = _search(spec, runs)
    assert final.returncode == 0, final.stderr
    _check_nothing_twice(runs, 6)
    assert not [t for t in _study(runs).trials if t.state == optuna.trial.TrialState.RUNNING]


def test_infeasible_trials_are_told_at_once_and_never_submitted(tmp_path: Path) -> None:
    text = RANKS.read_text().replace('"params.roi_head <= 40e6"', '"params.roi_head <= 0.6e6"')
    path = tmp_path / "ranks.yaml"
    path.write_text(text)
    spec = load_spec(path)
    spec = replace(spec, search=spec.search.for_profile("smoke"))  # type: ignore[union-attr]
    runs = tmp_path / "runs"
    executor = make_executor("debug", tmp_path / "submitit")
    controller = Controller(spec, "smoke", runs, executor, "disabled", out=lambda _: None)
    from harness.search.study import load_study

    study = load_study(spec, "smoke", controller.folder)
    book = controller.book = Book(study, controller.dists, lambda _: None)
    controller._ask(study, book, 40)
    running = book.running
    failed = [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    assert failed and len(running) == 2  # asked until two feasible ones were in flight
    base = profile_config(spec.profile("smoke"))
    for t in failed:
        assert "breaks params.roi_head <= 0.6e6" in t.user_attrs["infeasible"]
        cfg = apply_overrides(base, overrides(spec.search, t.params))  # type: ignore[arg-type]
        assert decoder_budget(spec.search, cfg)["params.roi_head"] > 0.6e6  # type: ignore[arg-type]
    for n in running:
        cfg = apply_overrides(base, overrides(spec.search, study.trials[n].params))  # type: ignore[arg-type]
        assert decoder_budget(spec.search, cfg)["params.roi_head"] <= 0.6e6  # type: ignore[arg-type]
    assert not list(runs.rglob("record.json"))
    assert not (controller.folder / ".journal.jsonl").exists()  # nothing was ever submitted


BAD = [
    ("space: {}", "search.space", "must map parameter names"),
    ("trials: 24", "search.trails", "did you mean 'trials'"),
    ("type: tpe", "search.sampler.type", "'bayes' is not valid; valid: tpe, nsga2, random, grid"),
    ('"params.roi_head <= 40e6"', "search.constraints[0]", "not known before training"),
    ('"params.roi_head <= 40e6"', "search.constraints", "no config of the space meets"),
    ("in_flight: 2", "search.storage", "is not a storage; valid: journal"),
    ("in_flight: 2", "search.storage", "cannot open 'postgresql://"),
    ("int: [4, 32], step: 4", "search.space.adaptive_rank.int", "must be [low, high]"),
]
EDITS = [
    ("space:\n    adaptive_rank:", "space: {}\n  unused:\n    adaptive_rank:"),
    ("trials: 24", "trails: 24"),
    ("type: tpe", "type: bayes"),
    ('"params.roi_head <= 40e6"', '"params.total <= 40e6"'),
    ('"params.roi_head <= 40e6"', '"params.roi_head <= 1000"'),
    ("in_flight: 2", "in_flight: 2\n  storage: mysql://db/x"),
    ("in_flight: 2", "in_flight: 2\n  storage: postgresql://nobody@127.0.0.1:9/none"),
    ("int: [4, 32], step: 4", "int: [32, 4], step: 4"),
]


@pytest.mark.parametrize(
    ("edit", "bad"), list(zip(EDITS, BAD, strict=True)), ids=[b[1] for b in BAD]
)
def test_bad_search_block_is_one_line_and_creates_nothing(
    tmp_path: Path, edit: tuple[str, str], bad: tuple[str, str, str]
) -> None:
    old, new = edit
    text = RANKS.read_text()
    assert old in text
    spec = tmp_path / "ranks.yaml"
    spec.write_text(text.replace(old, new, 1))
    runs = tmp_path / "runs"
    out = _search(spec, runs, "--profile", "smoke")
    assert out.returncode == 2, out.stdout + out.stderr
    errors = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and bad[1] in errors[0] and bad[2] in errors[0], out.stderr
    assert str(spec) in errors[0] or "ranks.yaml" in errors[0]
    assert not runs.exists() and not (REPO / "data" / "smoke").is_relative_to(tmp_path)


def test_launch_points_a_search_spec_to_harness_search() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "harness.launch", str(RANKS), "--dry-run"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert out.returncode == 2 and "python -m harness.search" in out.stderr


@pytest.mark.slow
def test_a_study_resumed_after_a_code_change_retrains_what_it_asks(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    spec = tmp_path / "search.yaml"
    spec.write_text(TINY.read_text().replace("trials: 6", "trials: 2"))
    first = _search(spec, runs)
    assert first.returncode == 0, first.stderr
    # other code: the done runs are older runs now; a trial asking their config trains again
    changed = subprocess.run(
        _cmd(spec, runs, "--trials", "4"), capture_output=True, text=True, timeout=600,
        check=False, cwd=REPO, env={**os.environ, "LORS_CODE_HASH": "other-code"},
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    assert "4 complete, 0 pruned, 0 failed (0 infeasible) of 4 trials" in changed.stdout
    assert "costs nothing" not in changed.stdout.split("resuming with", 1)[1]


@pytest.mark.slow
def test_detach_then_follow(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    detached = _search(TINY, runs, "--detach")
    assert detached.returncode == 0, detached.stderr
    assert "detached: controller" in detached.stdout and "--follow" in detached.stdout
    followed = _search(TINY, runs, "--follow")
    assert followed.returncode == 0, followed.stderr
    assert "following controller" in followed.stdout or "no controller drives" in followed.stdout
    _check_nothing_twice(runs, 6)  # the background controller ran the study to its end
    log = (runs / "tiny-search" / "smoke" / "search.log").read_text()
    assert (
        "study tiny-search/smoke: 6 complete, 0 pruned, 0 failed (0 infeasible) of 6 trials" in log
    )
