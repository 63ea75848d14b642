"""The Optuna study of a search spec in one profile: its name, sampler, directions and storage."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import optuna

from harness.errors import HarnessError
from harness.search.pruning import build_pruner
from harness.search.space import stored_choice
from harness.search.storage import open_storage
from harness.spec.model import SweepSpec
from harness.spec.search_model import SearchParam, SearchSpec

MAX_GRID = 100_000


def study_name(spec: SweepSpec, profile: str) -> str:
    """``<sweep>/<profile>``: one study per spec and profile, like one sweep folder."""
    return f"{spec.name}/{profile}"


def _grid_values(param: SearchParam) -> list[Any]:
    if param.kind == "categorical":
        return [stored_choice(c) for c in param.choices]
    assert param.low is not None and param.high is not None
    step = param.step or 1
    count = int((param.high - param.low) // step) + 1
    if count > MAX_GRID:
        raise HarnessError(f"search.space.{param.name}: {count:,} grid values; give a larger step")
    kind = int if param.kind == "int" else float
    return [kind(param.low + i * step) for i in range(count)]


def make_sampler(search: SearchSpec, offset: int = 0) -> optuna.samplers.BaseSampler:
    """The spec's sampler, seeded when the spec gives a seed (plus ``offset``: the trials a
    resumed study already has, so it goes on with new draws instead of replaying the first)."""
    search = replace(search, seed=None if search.seed is None else search.seed + offset)
    if search.sampler == "random":
        return optuna.samplers.RandomSampler(seed=search.seed)
    if search.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=search.seed)
    if search.sampler == "grid":
        space = {p.name: _grid_values(p) for p in search.space}
        size = 1
        for values in space.values():
            size *= len(values)
        if size > MAX_GRID:
            raise HarnessError(
                f"search.sampler: the grid has {size:,} points; at most {MAX_GRID:,}"
            )
        return optuna.samplers.GridSampler(space, seed=search.seed)
    return optuna.samplers.TPESampler(seed=search.seed, constant_liar=True)


def load_study(spec: SweepSpec, profile: str, folder: Path, create: bool = True) -> optuna.Study:
    """Create the study, or load it when it exists (a second run resumes it).

    Raises:
        HarnessError: the storage cannot be opened, or the stored study has other directions.
    """
    assert spec.search is not None
    search = spec.search
    try:
        storage = open_storage(search.storage, folder, create=create)
    except HarnessError as exc:
        raise HarnessError(f"{spec.path}: {exc}") from None
    name = study_name(spec, profile)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(
            storage=storage,
            study_name=name,
            directions=cast(Any, search.directions),
            sampler=make_sampler(search),
            pruner=build_pruner(search.pruner.as_payload()),
            load_if_exists=True,
        )
    except ValueError as exc:
        raise HarnessError(f"{spec.path}: search: study {name!r}: {exc}") from None
    if study.trials and search.seed is not None:
        study.sampler = make_sampler(search, offset=len(study.trials))
    stored = [d.name.lower() for d in study.directions]
    if stored != search.directions:
        raise HarnessError(
            f"{spec.path}: search.objectives: study {name!r} was made with directions {stored}, "
            f"the spec now says {search.directions}; give the spec another name for a new study"
        )
    return study
