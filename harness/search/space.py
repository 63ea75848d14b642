"""A search spec's space in Optuna's terms, and a trial's parameters as a cell of the sweep.

A trial becomes a *case* (``harness.spec.model.Case``): its label names the parameters, its
overrides set their keys. So a trial is planned, identified, submitted and recorded exactly like
a grid cell, and two trials that sample the same config share one run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optuna

from harness.spec.model import Case, Cases
from harness.spec.reading import value_label
from harness.spec.search_model import TRIAL_AXIS, SearchParam, SearchSpec


def stored_choice(value: Any) -> Any:
    """A categorical value as the study stores it: a list (K per stage) by its label, ``1-2-3``
    (storages keep only scalars; labels are distinct, the loader checks)."""
    return value_label(list(value)) if isinstance(value, tuple | list) else value


def distribution(param: SearchParam) -> optuna.distributions.BaseDistribution:
    """Optuna's distribution of one parameter (a list choice goes by its label)."""
    if param.kind == "categorical":
        return optuna.distributions.CategoricalDistribution(
            [stored_choice(c) for c in param.choices]
        )
    assert param.low is not None and param.high is not None
    if param.kind == "int":
        step = int(param.step or 1)
        return optuna.distributions.IntDistribution(
            int(param.low), int(param.high), log=param.log, step=step
        )
    return optuna.distributions.FloatDistribution(
        param.low, param.high, log=param.log, step=None if param.step is None else float(param.step)
    )


def distributions(search: SearchSpec) -> dict[str, optuna.distributions.BaseDistribution]:
    """Name -> distribution, for ``study.ask``."""
    return {p.name: distribution(p) for p in search.space}


def value_of(param: SearchParam, stored: Any) -> Any:
    """A parameter's config value from what the study stored (a list choice from its label)."""
    for choice in param.choices:
        if isinstance(choice, tuple) and stored_choice(choice) == stored:
            return list(choice)
    return list(stored) if isinstance(stored, tuple) else stored


def overrides(search: SearchSpec, params: Mapping[str, Any]) -> dict[str, Any]:
    """The dotted config overrides of a trial's parameters (those it has: an inert one is left
    out, :func:`harness.search.budget.effective_params`)."""
    return {p.key: value_of(p, params[p.name]) for p in search.space if p.name in params}


def trial_label(search: SearchSpec, params: Mapping[str, Any]) -> str:
    """``adaptive_rank=16,adaptive_groups=1-1-2-2-3-3``: the trial's cell label (its config,
    not its number, so equal configs share a label and a run)."""
    parts = []
    for p in (p for p in search.space if p.name in params):  # an inert knob is left out
        value = value_of(p, params[p.name])
        shown = value_label(value)
        if isinstance(value, float):
            shown = f"{value:.6g}"
        parts.append(f"{p.name}={shown}")
    return ",".join(parts)


def trial_axes(search: SearchSpec, trials: Mapping[str, Mapping[str, Any]]) -> Cases:
    """A cases axis of the given trials (label -> params): the sweep of the trials in flight."""
    items = tuple(Case(label, overrides(search, params)) for label, params in trials.items())
    return Cases(TRIAL_AXIS, items)
