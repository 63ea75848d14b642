"""Pruning a study's trials from their runs' evaluations: the pruner, the steps, the reports.

A run reports each evaluation to its trial as it trains (``harness.job.prune``); the controller
replays a run's history into a trial that did not train it (a trial that reuses a done run, or a
config a pruned run left half-trained), so every trial's curve is complete for the pruner. The
step of an evaluation is its epoch when the run trains by epochs, else its iteration.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import optuna

from harness.spec.search_model import PRUNER_OPTIONS, SearchSpec


def build_pruner(body: Mapping[str, Any]) -> optuna.pruners.BasePruner:
    """The Optuna pruner of ``PrunerSpec.as_payload()``'s data: the controller and the jobs build
    the same one, so both decide alike."""
    kind = str(body.get("type", "none"))
    given = body.get("options") or {}
    args = {arg: given.get(name, default) for name, (arg, default) in PRUNER_OPTIONS[kind].items()}
    if kind == "median":
        return optuna.pruners.MedianPruner(**args)
    if kind == "successive_halving":
        args["min_resource"] = args["min_resource"] or "auto"
        return optuna.pruners.SuccessiveHalvingPruner(**args)
    if kind == "hyperband":
        args["max_resource"] = args["max_resource"] or "auto"
        return optuna.pruners.HyperbandPruner(**args)
    return optuna.pruners.NopPruner()


def step_of(entry: Mapping[str, Any]) -> int:
    """An evaluation's step: its epoch when the run trains by epochs, else its iteration."""
    epoch = entry.get("epoch")
    return int(epoch if epoch is not None else entry.get("iter", 0))


def entry_value(entry: Mapping[str, Any], metric: str) -> float | None:
    """The objective's value in one evaluation (``bbox_mAP``, or ``history.<result>``)."""
    value = entry.get(metric.removeprefix("history."))
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def report_history(
    study: optuna.Study, trial_id: int, history: Sequence[Mapping[str, Any]], metric: str
) -> int:
    """Report every evaluation of a run's history that the trial lacks; returns how many."""
    trial = optuna.trial.Trial(study, trial_id)
    known = set(study._storage.get_trial(trial_id).intermediate_values)
    count = 0
    for entry in history:
        value, step = entry_value(entry, metric), step_of(entry)
        if value is None or step in known:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a step reported twice is ignored: that is fine
            trial.report(value, step)
        known.add(step)
        count += 1
    return count


def should_prune(study: optuna.Study, trial_id: int) -> bool:
    """Whether the study's pruner stops the trial at its last reported step."""
    return optuna.trial.Trial(study, trial_id).should_prune()


def prune_block(search: SearchSpec, folder: Path) -> dict[str, Any]:
    """The payload's ``prune`` entry: what a trial's job needs to report to the study (empty
    when the study does not prune)."""
    if not search.pruner.enabled:
        return {}
    return {"prune": {
        "pruner": search.pruner.as_payload(),
        "metric": search.objectives[0].metric,
        "storage": search.storage,
        "folder": str(folder.resolve()),
    }}  # fmt: skip
