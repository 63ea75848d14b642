"""Pruning: a run reports each evaluation to its trial and stops cleanly when pruned (record
``pruned`` at the step, a checkpoint there, the job ending normally); a later trial of the same
config is pruned again from the run's history at no cost, or, when the study has moved on,
continues the run from its checkpoint instead of starting over. A vanished job is resubmitted
per ``search.retries``; a spec that cannot be pruned is refused in one line.

The study's competitors are real completed trials added to it with fixed curves, so which trial
is pruned does not hang on the tiny workload's accuracies; the runs themselves are real
mmengine runs (debug executor: in this process).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from harness.executors import make_executor
from harness.search.controller import Controller
from harness.search.space import distributions
from harness.search.study import load_study
from harness.spec import load_spec
from tests.harness.conftest import REPO

TINY = REPO / "tests" / "harness" / "tiny" / "search.yaml"
STEPS = (5, 10, 15, 20)  # the tiny run evaluates every 5 of its 20 iterations here


def _spec(tmp_path: Path, pruner: str = "{type: median, startup_trials: 1}") -> Path:
    text = TINY.read_text().replace(
        "resources: {gpus: 0, cpus: 1, mem_gb: 2, timeout_min: 10}",
        "resources: {gpus: 0, cpus: 1, mem_gb: 2, timeout_min: 10}\n"
        "    overrides: {train_cfg.val_interval: 5}",
    )
    path = tmp_path / "search.yaml"
    path.write_text(text.replace("in_flight: 2", f"in_flight: 1\n  pruner: {pruner}"))
    return path


def _competitor(study: optuna.Study, spec: object, value: float) -> None:
    """A completed trial with a flat curve at ``value`` (the median pruner compares with it)."""
    dists = distributions(spec.search)  # type: ignore[attr-defined]
    curve = dict.fromkeys(STEPS, value)
    study.add_trial(
        optuna.trial.create_trial(
            params={"hidden": 2}, distributions=dists, value=value, intermediate_values=curve
        )
    )


def _record(runs: Path) -> dict:
    (path,) = runs.rglob("record.json")
    return json.loads(path.read_text())


def _submitted(runs: Path) -> int:
    lines = (runs / "tiny-search" / "smoke" / ".journal.jsonl").read_text().splitlines()
    return sum(json.loads(line)["event"] == "submitting" for line in lines)


@pytest.mark.slow
def test_pruned_then_pruned_again_for_free_then_continued_from_its_checkpoint(
    tmp_path: Path,
) -> None:
    spec = load_spec(_spec(tmp_path))
    runs, lines = tmp_path / "runs", []
    executor = make_executor("debug", tmp_path / "submitit")
    controller = Controller(spec, "smoke", runs, executor, "disabled", out=lines.append, poll_s=0)
    study = load_study(spec, "smoke", controller.folder)
    _competitor(study, spec, 1.01)  # better than any accuracy: the next trial is pruned at once
    study.enqueue_trial({"hidden": 8})
    controller.run(2)

    trial = study.trials[1]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert list(trial.intermediate_values) == [5]  # reported by the run itself, as it trained
    record = _record(runs)
    assert record["status"] == "pruned"
    assert record["pruned"]["trial"] == 1 and record["pruned"]["step"] == 5
    assert record["pruned"]["iter"] == 5
    assert record["pruned"]["value"] == pytest.approx(trial.intermediate_values[5])
    assert [h["iter"] for h in record["history"]] == [5]  # it stopped at the evaluation
    assert record["attempts"][-1]["exit"] == "pruned" and record["attempts"][-1]["end"]
    run_dir = runs / record["run_dir"]
    assert record["checkpoint"] == "iter_5.pth" and (run_dir / "iter_5.pth").is_file()
    assert Path((run_dir / "last_checkpoint").read_text().strip()).name == "iter_5.pth"
    assert not (run_dir / "iter_10.pth").exists()
    assert any("trial 1 [hidden=8]: pruned at step 5" in line for line in lines), lines
    status = subprocess.run(
        [sys.executable, "-m", "harness.status", str(_spec(tmp_path)), "--runs-dir", str(runs)],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert "pruned at step 5" in status.stdout, status.stdout

    # the same config again, the study unchanged: pruned again from the run's history, no job
    study.enqueue_trial({"hidden": 8})
    controller.run(3)
    assert study.trials[2].state == optuna.trial.TrialState.PRUNED
    assert _submitted(runs) == 1
    assert any("trial 2 [hidden=8]: pruned again at step 5" in line for line in lines), lines

    # the study moves on (three poor trials pull the median down): the config is not pruned
    # at step 5 any more, and its run goes on from iter_5.pth instead of starting over
    for _ in range(3):
        _competitor(study, spec, 0.0)
    study.enqueue_trial({"hidden": 8})
    controller.run(7)
    promoted = study.trials[6]
    assert promoted.state == optuna.trial.TrialState.COMPLETE, lines
    assert sorted(promoted.intermediate_values) == list(STEPS)
    record = _record(runs)
    assert record["status"] == "done" and record["pruned"] is None
    assert [a["exit"] for a in record["attempts"]] == ["pruned", "completed"]
    assert record["attempts"][1]["resumed_from_iter"] == 5
    assert [h["iter"] for h in record["history"]] == list(STEPS)
    assert record["search"] == {"study": "tiny-search/smoke", "trial": 6}
    assert _submitted(runs) == 2
    assert any("continues run" in line and "from its checkpoint" in line for line in lines)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("seeds", "seeds: [0, 1]\nsearch:"), "pruning needs one run per trial"),
        (("objective", "    - {metric: params.total, direction: minimize}\n"),
         "single-objective studies only"),
        (("pruner", "{type: median, warmup: 3}"), "search.pruner"),
        (("pruner", "{type: hyperband, min_resource: 9, max_resource: 3}"), "above max_resource"),
        (("pruner", "asha"), "valid: none, median, successive_halving, hyperband"),
    ],
)  # fmt: skip
def test_a_spec_that_cannot_be_pruned_is_one_line(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    kind, text = edit
    path = _spec(tmp_path, text if kind == "pruner" else "median")
    body = path.read_text()
    if kind == "seeds":
        body = body.replace("search:", text, 1)
    elif kind == "objective":
        body = body.replace("  sampler:", text + "  sampler:", 1)
    path.write_text(body)
    out = subprocess.run(
        [sys.executable, "-m", "harness.search", str(path), "--dry-run"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert out.returncode == 2, out.stdout
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert str(path) in out.stderr and message in out.stderr, out.stderr


def _kill_training(runs: Path, proc: subprocess.Popen[str], after: float = 0.0) -> dict:
    """SIGKILL the first training process once its run has a checkpoint; its record then."""
    import os
    import signal
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the controller ended first: {proc.communicate()[0]}")
        for path in runs.rglob("record.json"):
            record = json.loads(path.read_text())
            attempt = record["attempts"][-1] if record["attempts"] else {}
            if attempt.get("exit") is None and (path.parent / "last_checkpoint").is_file():
                time.sleep(after)
                os.kill(attempt["pid"], signal.SIGKILL)
                return record
        time.sleep(0.05)
    raise AssertionError("no run reached a checkpoint in 120 s")


@pytest.mark.slow
@pytest.mark.parametrize("retries", [1, 0])
def test_a_trial_whose_job_vanished_is_retried_per_policy(tmp_path: Path, retries: int) -> None:
    text = TINY.read_text().replace(
        "resources: {gpus: 0, cpus: 1, mem_gb: 2, timeout_min: 10}",
        "resources: {gpus: 0, cpus: 1, mem_gb: 2, timeout_min: 10}\n"
        "    overrides: {model.step_delay_s: 0.1}",
    )
    text = text.replace("trials: 6", f"trials: 1\n  retries: {retries}")
    spec, runs = tmp_path / "search.yaml", tmp_path / "runs"
    spec.write_text(text)
    cmd = [
        sys.executable, "-m", "harness.search", str(spec), "--runs-dir", str(runs),
        "--executor", "local", "--poll", "0.3", "--wandb", "disabled",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=REPO)  # fmt: skip
    killed = _kill_training(runs, proc)
    out, _ = proc.communicate(timeout=300)
    study_path = runs / "tiny-search" / "smoke" / "study.journal"
    storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(study_path))
    )
    (trial,) = optuna.load_study(study_name="tiny-search/smoke", storage=storage).trials
    record = _record(runs)
    assert record["run_id"] == killed["run_id"]
    assert record["attempts"][0]["exit"] == "killed" and record["attempts"][0]["end"]
    if retries:
        assert proc.returncode == 0, out
        assert "resubmitted to resume from its last checkpoint (retry 1 of 1)" in out, out
        assert trial.state == optuna.trial.TrialState.COMPLETE and trial.user_attrs["retries"] == 1
        assert record["status"] == "done" and len(record["attempts"]) == 2
        assert record["attempts"][1]["resumed_from_iter"] > 0  # from its checkpoint
        assert _submitted(runs) == 2
    else:
        assert trial.state == optuna.trial.TrialState.FAIL, out
        assert "not retried further (search.retries: 0)" in trial.user_attrs["failed"], out
        assert record["status"] == "failed" and len(record["attempts"]) == 1
        assert _submitted(runs) == 1
