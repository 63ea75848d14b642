"""Parsing a search block's ``pruner`` and checking that the study can be pruned at all.

Optuna prunes single-objective studies only, from values a run reports while it trains: the
objective must be one an evaluation produces (not ``params.*``, known before training), and a
trial must be one run (one seed), so that each evaluation is one report of the trial.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.spec.reading import Problems, check_int, check_keys
from harness.spec.search_model import PRUNER_OPTIONS, PRUNERS, Objective, PrunerSpec

# the smallest value each option takes (a reduction factor of 1 would never prune)
_MINIMUM = {"reduction_factor": 2, "min_resource": 1, "max_resource": 1, "interval_steps": 1}


def parse_pruner(raw: Any, problems: Problems, where: str = "search.pruner") -> PrunerSpec:
    """``none``, a type name, or ``{type, <options>}`` (``PRUNER_OPTIONS`` lists each type's)."""
    body = raw if isinstance(raw, Mapping) else {"type": raw}
    kind = body.get("type")
    if kind not in PRUNERS:
        problems.add(f"{where}.type" if isinstance(raw, Mapping) else where,
                     f"{kind!r} is not a pruner; valid: {', '.join(PRUNERS)}")  # fmt: skip
        return PrunerSpec()
    valid = ("type", *PRUNER_OPTIONS[kind])
    if not check_keys(body, where, valid, problems):
        return PrunerSpec()
    options = {}
    for name in PRUNER_OPTIONS[kind]:
        if name in body:
            low = _MINIMUM.get(name, 0)
            options[name] = check_int(body[name], f"{where}.{name}", problems, low)
    least, most = options.get("min_resource"), options.get("max_resource")
    if kind == "hyperband" and least is not None and most is not None and least > most:
        problems.add(where, f"min_resource ({least}) is above max_resource ({most})")
    return PrunerSpec(str(kind), options)


def check_prunable(
    pruner: PrunerSpec, objectives: Sequence[Objective], seeds: Sequence[int | None],
    problems: Problems, where: str = "search.pruner",
) -> None:  # fmt: skip
    """Report why a study with this pruner cannot be pruned (one line per reason)."""
    if not pruner.enabled:
        return
    if len(objectives) != 1:
        names = ", ".join(o.metric for o in objectives)
        problems.add(
            where, f"Optuna prunes single-objective studies only; this one has {len(objectives)} "
            f"({names}): use pruner: none, or one objective with the others as constraints",
        )  # fmt: skip
    elif objectives[0].metric.startswith("params."):
        problems.add(where, f"{objectives[0].metric} is known before training: nothing to prune on")
    if len(seeds) > 1:
        problems.add(
            where, f"pruning needs one run per trial; the spec runs {len(seeds)} seeds "
            f"({list(seeds)}): give seeds one value",
        )  # fmt: skip
