"""The ``search`` block of a spec as frozen dataclasses: a study over knobs (docs/search.md).

A search spec is a sweep spec whose cells come from a study instead of ``axes``: profiles, base
configs, resources, seeds and the knob contract apply unchanged, and every sampled config is
checked like a spec's cell. ``harness.spec.parse_search`` builds these from checked input;
``harness.search`` runs them.

::

    search:
      space:
        adaptive_rank: {key: model.roi_head.lors_cfg.adaptive_rank, int: [4, 32], log: true}
        adaptive_groups: {key: model.roi_head.lors_cfg.adaptive_groups,
                          categorical: [1, 2, 3, [1, 1, 2, 2, 3, 3]]}
      objectives: [{metric: bbox_mAP, direction: maximize}]
      constraints: ["params.roi_head <= 40e6"]
      sampler: {type: tpe, seed: 0}
      pruner: {type: successive_halving, min_resource: 2, reduction_factor: 2}
      trials: 16
      in_flight: 2
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

SEARCH_KEYS = (
    "space",
    "objectives",
    "constraints",
    "sampler",
    "pruner",
    "trials",
    "in_flight",
    "storage",
    "retries",
    "by_profile",
)
PARAM_KINDS = ("int", "float", "categorical")
PARAM_KEYS_ALLOWED = ("key", *PARAM_KINDS, "log", "step")
SAMPLERS = ("tpe", "nsga2", "random", "grid")
PRUNERS = ("none", "median", "successive_halving", "hyperband")
# each pruner's options: the spec's name -> (Optuna's argument, default; None: Optuna's "auto")
PRUNER_OPTIONS: dict[str, dict[str, tuple[str, Any]]] = {
    "none": {},
    "median": {
        "startup_trials": ("n_startup_trials", 5),
        "warmup_steps": ("n_warmup_steps", 0),
        "interval_steps": ("interval_steps", 1),
        "min_trials": ("n_min_trials", 1),
    },
    "successive_halving": {
        "min_resource": ("min_resource", None),
        "reduction_factor": ("reduction_factor", 4),
        "min_early_stopping_rate": ("min_early_stopping_rate", 0),
    },
    "hyperband": {
        "min_resource": ("min_resource", 1),
        "max_resource": ("max_resource", None),
        "reduction_factor": ("reduction_factor", 3),
    },
}
DIRECTIONS = ("maximize", "minimize")
# params.* known before training, from lors.adamixer_counting (the decoder is the roi_head)
ANALYTIC = {"params.roi_head": "total", "params.roi_head_shared": "shared",
            "params.roi_head_private": "private"}  # fmt: skip
OPERATORS = ("<=", ">=", "<", ">")
STORAGE_SCHEMES = ("journal", "sqlite://", "postgresql://", "postgresql+psycopg2://")
MAX_TRIALS = 10_000
TRIAL_AXIS = "trial"  # the axis of a study's cells: one case per config its trials ask
HISTORY = re.compile(r"history\.[A-Za-z_][\w/]*")  # a result of the last evaluation


@dataclass(frozen=True)
class SearchParam:
    """One dimension of the space: a config key and its distribution.

    Args:
        name: the parameter's name in the study (and in trial labels).
        key: the dotted config key it sets.
        kind: ``int``, ``float`` or ``categorical``.
        low / high: the range of ``int`` and ``float``; ``log`` and ``step`` as Optuna has them.
        choices: the values of ``categorical`` (lists allowed: K per stage).
    """

    name: str
    key: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Objective:
    """A metric of the record (``bbox_mAP``, ``params.roi_head``) and whether to raise it."""

    metric: str
    direction: str


@dataclass(frozen=True)
class Constraint:
    """``key op bound``; on an analytic key it is checked before anything is trained."""

    key: str
    op: str
    bound: float
    text: str

    def holds(self, value: float) -> bool:
        """Whether ``value`` satisfies the constraint."""
        return {
            "<=": value <= self.bound,
            ">=": value >= self.bound,
            "<": value < self.bound,
            ">": value > self.bound,
        }[self.op]


@dataclass(frozen=True)
class PrunerSpec:
    """How trials are stopped early from the evaluations their runs report (docs/search.md).

    Args:
        type: one of ``PRUNERS``.
        options: the spec's options (``PRUNER_OPTIONS``), given ones only.
    """

    type: str = "none"
    options: Mapping[str, int] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        """Whether runs report to the study and may be stopped."""
        return self.type != "none"

    def as_payload(self) -> dict[str, Any]:
        """The pruner as a job builds it (plain data: it travels in the job payload)."""
        return {"type": self.type, "options": dict(self.options)}


@dataclass(frozen=True)
class SearchSpec:
    """The ``search`` block, validated."""

    space: tuple[SearchParam, ...]
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...] = ()
    sampler: str = "tpe"
    seed: int | None = None
    pruner: PrunerSpec = PrunerSpec()
    trials: int = 16
    in_flight: int = 1
    storage: str = "journal"
    retries: int = 2
    space_by_profile: Mapping[str, tuple[SearchParam, ...]] = field(default_factory=dict)
    pruner_by_profile: Mapping[str, PrunerSpec] = field(default_factory=dict)
    constraints_by_profile: Mapping[str, tuple[Constraint, ...]] = field(default_factory=dict)

    def for_profile(self, profile: str) -> SearchSpec:
        """The block as one profile runs it: its ``by_profile`` parameters replace those of the
        same name (a 3-stage smoke decoder takes K per stage as 3 values, the paper's as 6); its
        pruner and constraints, when given, replace the block's (steps and budgets differ)."""
        own = {p.name: p for p in self.space_by_profile.get(profile, ())}
        return replace(
            self,
            space=tuple(own.get(p.name, p) for p in self.space),
            pruner=self.pruner_by_profile.get(profile, self.pruner),
            constraints=self.constraints_by_profile.get(profile, self.constraints),
        )

    @property
    def directions(self) -> list[str]:
        """Optuna's study directions, one per objective."""
        return [o.direction for o in self.objectives]


def edge_values(param: SearchParam) -> list[Any]:
    """The values a parameter can take at the edges of its range (every choice of a categorical)."""
    if param.kind == "categorical":
        return [list(c) if isinstance(c, tuple) else c for c in param.choices]
    assert param.low is not None and param.high is not None
    cast = int if param.kind == "int" else float
    return list(dict.fromkeys([cast(param.low), cast(param.high)]))
