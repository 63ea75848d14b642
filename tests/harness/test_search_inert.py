"""Trials that sample the same model share one run: a knob the sampled config leaves inert (the
ranks and K of a LORS part switched off) stays out of the trial's label and overrides."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from harness.executors import make_executor
from harness.identity import profile_config
from harness.search.book import Book
from harness.search.budget import effective_params
from harness.search.controller import Controller
from harness.search.space import overrides, trial_axes, trial_label
from harness.search.study import load_study
from harness.spec import load_spec
from harness.spec.model import SweepSpec
from tests.harness.conftest import REPO

RANKS = REPO / "sweeps" / "search" / "ranks.yaml"
SHARED_A = {"adaptive_rank": 4, "adaptive_groups": 1, "static_rank": 4, "parts": "shared"}
SHARED_B = {"adaptive_rank": 16, "adaptive_groups": "1-2-3", "static_rank": 16, "parts": "shared"}
BOTH = {"adaptive_rank": 4, "adaptive_groups": 1, "static_rank": 4, "parts": "both"}


def _spec() -> SweepSpec:
    spec = load_spec(RANKS)
    assert spec.search is not None
    return replace(spec, search=spec.search.for_profile("smoke"))


def test_effective_params_leave_out_what_the_config_makes_inert() -> None:
    spec = _spec()
    base = profile_config(spec.profile("smoke"))
    assert effective_params(spec.search, base, SHARED_A) == {"parts": "shared"}
    assert effective_params(spec.search, base, SHARED_B) == {"parts": "shared"}
    assert effective_params(spec.search, base, BOTH) == BOTH
    shared = effective_params(spec.search, base, SHARED_A)
    assert trial_label(spec.search, shared) == "parts=shared"
    assert overrides(spec.search, shared) == {"model.roi_head.lors_cfg.parts": "shared"}


def test_two_trials_of_the_same_model_in_flight_are_one_cell(tmp_path: Path) -> None:
    spec = _spec()
    controller = Controller(
        spec, "smoke", tmp_path / "runs", make_executor("debug", tmp_path / "s"), "disabled",
        out=lambda _: None,
    )  # fmt: skip
    study = load_study(spec, "smoke", controller.folder)
    study.enqueue_trial(SHARED_A)
    study.enqueue_trial(SHARED_B)
    book = controller.book = Book(study, controller.dists, lambda _: None)
    controller._ask(study, book, 2)
    running = dict(book.running)
    assert len(running) == 2
    assert {tuple(sorted(t.params.items())) for t in running.values()} == {
        tuple(sorted(SHARED_A.items())), tuple(sorted(SHARED_B.items()))
    }  # the study keeps what it sampled  # fmt: skip
    cases = {trial_label(spec.search, controller._params(t)): controller._params(t)
             for t in running.values()}  # fmt: skip
    axis = trial_axes(spec.search, cases)  # what _step plans: one cell for both trials
    assert [c.label for c in axis.items] == ["parts=shared"]


def test_the_front_shows_trials_of_one_run_as_one_row() -> None:
    import optuna

    from harness.search.cli import front

    spec = _spec()
    assert spec.search is not None
    study = optuna.create_study(directions=["maximize", "minimize"])
    for params, values, run in ((SHARED_A, (0.3, 5e5), "aaa"), (SHARED_B, (0.3, 5e5), "aaa"),
                                (BOTH, (0.4, 9e5), "bbb")):  # fmt: skip
        one = optuna.distributions.CategoricalDistribution
        trial = optuna.trial.create_trial(
            params=params, distributions={k: one([v]) for k, v in params.items()},
            values=list(values), user_attrs={"run_ids": [run]},
        )  # fmt: skip
        study.add_trial(trial)
    lines = front(study, spec.search).splitlines()[2:]
    assert len(lines) == 2
    assert lines[0].split()[:2] == ["0,1", "parts=shared"] and lines[0].split()[-1] == "aaa"
    assert lines[1].startswith("2 ") and "adaptive_rank=4" in lines[1]
