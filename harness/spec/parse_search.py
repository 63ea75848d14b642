"""Parsing and checking a spec's ``search`` block (grammar: ``harness.spec.search_model``)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from harness.records.schema import METRIC_KEYS, PARAM_KEYS
from harness.spec.model import SweepSpec
from harness.spec.parse_pruner import check_prunable, parse_pruner
from harness.spec.reading import Problems, check_dotted_key, check_int, check_keys, value_label
from harness.spec.search_model import (
    ANALYTIC,
    DIRECTIONS,
    HISTORY,
    MAX_TRIALS,
    OPERATORS,
    PARAM_KEYS_ALLOWED,
    PARAM_KINDS,
    SAMPLERS,
    SEARCH_KEYS,
    STORAGE_SCHEMES,
    Constraint,
    Objective,
    PrunerSpec,
    SearchParam,
    SearchSpec,
    edge_values,
)
from harness.spec.validate import ConfigChecker

_CONSTRAINT = re.compile(r"^\s*(?P<key>[\w.]+)\s*(?P<op><=|>=|<|>)\s*(?P<bound>[-+0-9.eE_]+)\s*$")


def parse_search(raw: Any, problems: Problems) -> SearchSpec | None:
    """The spec's ``search`` block, or None after reporting every problem in it."""
    if not check_keys(raw, "search", SEARCH_KEYS, problems, required=("space", "objectives")):
        return None
    space = _space(raw.get("space"), problems)
    objectives = _objectives(raw.get("objectives"), problems)
    constraints = _constraints(raw.get("constraints") or [], problems)
    sampler, seed = _sampler(raw.get("sampler", {"type": "tpe"}), problems)
    pruner = parse_pruner(raw.get("pruner", "none"), problems)
    trials = check_int(raw.get("trials", 16), "search.trials", problems, 1, MAX_TRIALS)
    in_flight = check_int(raw.get("in_flight", 1), "search.in_flight", problems, 1, 1000)
    storage = _storage(raw.get("storage", "journal"), problems)
    retries = check_int(raw.get("retries", 2), "search.retries", problems, 0, 100)
    by_profile, pruners, limits = _by_profile(raw.get("by_profile") or {},
                                              {p.name for p in space}, problems)  # fmt: skip
    if sampler == "grid" and any(p.kind == "float" and p.step is None for p in space):
        problems.add("search.sampler", "grid needs every float parameter to have a step")
    if problems or not space or not objectives:
        return None
    return SearchSpec(
        space=tuple(space),
        objectives=tuple(objectives),
        constraints=tuple(constraints),
        sampler=sampler,
        seed=seed,
        pruner=pruner,
        trials=int(trials or 16),
        in_flight=int(in_flight or 1),
        storage=storage,
        retries=int(retries),
        space_by_profile=by_profile,
        pruner_by_profile=pruners,
        constraints_by_profile=limits,
    )


def _choice(value: Any, where: str, valid: tuple[str, ...], problems: Problems) -> str:
    if value not in valid:
        problems.add(where, f"{value!r} is not valid; valid: {', '.join(valid)}")
        return valid[0]
    return str(value)


def _space(raw: Any, problems: Problems, at: str = "search.space") -> list[SearchParam]:
    if not isinstance(raw, Mapping) or not raw:
        problems.add(at, "must map parameter names to {key, int|float|categorical}")
        return []
    out = []
    for name, body in raw.items():
        where = f"{at}.{name}"
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][\w]*", name):
            problems.add(at, f"parameter name {name!r} must be an identifier")
            continue
        if not check_keys(body, where, PARAM_KEYS_ALLOWED, problems, required=("key",)):
            continue
        param = _param(name, body, where, problems)
        if param is not None:
            out.append(param)
    keys = [p.key for p in out]
    for key in {k for k in keys if keys.count(k) > 1}:
        problems.add(at, f"two parameters set {key}; give each key one parameter")
    return out


def _param(
    name: str, body: Mapping[str, Any], where: str, problems: Problems
) -> SearchParam | None:
    key = body["key"]
    if not check_dotted_key(key, f"{where}.key", problems):
        return None
    kinds = [k for k in PARAM_KINDS if k in body]
    if len(kinds) != 1:
        problems.add(where, f"give exactly one of {', '.join(PARAM_KINDS)}, got {kinds or 'none'}")
        return None
    kind = kinds[0]
    if kind == "categorical":
        choices = body[kind]
        if not isinstance(choices, list) or not choices:
            problems.add(f"{where}.categorical", "must be a non-empty list of values")
            return None
        labels = [value_label(c) for c in choices]
        if None in labels or len(set(labels)) != len(labels):
            problems.add(
                f"{where}.categorical", f"values must be distinct scalars or lists, got {choices!r}"
            )
            return None
        return SearchParam(name, key, kind, choices=tuple(_frozen(c) for c in choices))
    bounds = body[kind]
    number = int if kind == "int" else (int, float)
    ok = (
        isinstance(bounds, list)
        and len(bounds) == 2
        and all(isinstance(b, number) and not isinstance(b, bool) for b in bounds)
        and all(math.isfinite(b) for b in bounds)
    )
    if not ok or bounds[0] > bounds[1]:
        problems.add(
            f"{where}.{kind}", f"must be [low, high] with low <= high ({kind}s), got {bounds!r}"
        )
        return None
    log = body.get("log", False)
    step = body.get("step")
    if not isinstance(log, bool):
        problems.add(f"{where}.log", f"must be true or false, got {log!r}")
    if log and bounds[0] <= 0:
        problems.add(f"{where}.log", "a log range needs low > 0")
    if step is not None and (not isinstance(step, number) or isinstance(step, bool) or step <= 0):
        problems.add(f"{where}.step", f"must be a positive {kind}, got {step!r}")
    if log and step not in (None, 1):
        problems.add(where, "log and step do not go together (Optuna allows one)")
    return SearchParam(name, key, kind, float(bounds[0]), float(bounds[1]), bool(log), step)


def _by_profile(
    raw: Any, names: set[str], problems: Problems
) -> tuple[
    dict[str, tuple[SearchParam, ...]], dict[str, PrunerSpec], dict[str, tuple[Constraint, ...]]
]:
    if not isinstance(raw, Mapping):
        problems.add("search.by_profile", "must map profile names to {space, pruner, constraints}")
        return {}, {}, {}
    out, pruners, limits = {}, {}, {}
    for pname, body in raw.items():
        where = f"search.by_profile.{pname}"
        if not check_keys(body, where, ("space", "pruner", "constraints"), problems):
            continue
        if "pruner" in body:
            pruners[str(pname)] = parse_pruner(body["pruner"], problems, f"{where}.pruner")
        if "constraints" in body:
            given = _constraints(body["constraints"], problems, f"{where}.constraints")
            limits[str(pname)] = tuple(given)
        params = _space(body["space"], problems, f"{where}.space") if "space" in body else []
        for p in params:
            if p.name not in names:
                problems.add(f"{where}.space.{p.name}", f"not a parameter of search.space; "
                             f"valid: {sorted(names)}")  # fmt: skip
        out[str(pname)] = tuple(params)
    return out, pruners, limits


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _objectives(raw: Any, problems: Problems) -> list[Objective]:
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, Mapping) else None
    if not items:
        problems.add("search.objectives", "must list {metric, direction} objects")
        return []
    valid = [*METRIC_KEYS, *(f"params.{k}" for k in PARAM_KEYS)]
    out = []
    for i, item in enumerate(items):
        where = f"search.objectives[{i}]"
        if not check_keys(item, where, ("metric", "direction"), problems, required=("metric",)):
            continue
        metric = item["metric"]
        if metric not in valid and not (isinstance(metric, str) and HISTORY.fullmatch(metric)):
            problems.add(
                f"{where}.metric",
                f"unknown metric {metric!r}; valid metrics: {valid}, or history.<result> "
                "(a numeric result of the run's last evaluation)",
            )
            continue
        direction = _choice(
            item.get("direction", "maximize"), f"{where}.direction", DIRECTIONS, problems
        )
        out.append(Objective(metric, direction))
    metrics = [o.metric for o in out]
    if len(set(metrics)) != len(metrics):
        problems.add("search.objectives", "an objective is listed twice")
    return out


def _constraints(raw: Any, problems: Problems, at: str = "search.constraints") -> list[Constraint]:
    if not isinstance(raw, list):
        problems.add(at, "must be a list like ['params.roi_head <= 40e6']")
        return []
    out = []
    for i, text in enumerate(raw):
        where = f"{at}[{i}]"
        m = _CONSTRAINT.match(text) if isinstance(text, str) else None
        if m is None:
            problems.add(
                where, f"{text!r} is not 'KEY OP NUMBER' with OP one of {', '.join(OPERATORS)}"
            )
            continue
        if m["key"] not in ANALYTIC:
            problems.add(
                where,
                f"{m['key']!r} is not known before training; "
                f"constrain one of {', '.join(ANALYTIC)}",
            )
            continue
        try:
            bound = float(m["bound"])
        except ValueError:
            problems.add(where, f"{m['bound']!r} is not a number")
            continue
        out.append(Constraint(m["key"], m["op"], bound, text.strip()))
    return out


def _sampler(raw: Any, problems: Problems) -> tuple[str, int | None]:
    body = raw if isinstance(raw, Mapping) else {"type": raw}
    if not check_keys(body, "search.sampler", ("type", "seed"), problems):
        return "tpe", None
    kind = _choice(body.get("type", "tpe"), "search.sampler.type", SAMPLERS, problems)
    seed = body.get("seed")
    if seed is not None:
        seed = check_int(seed, "search.sampler.seed", problems, 0, 2**32 - 1)
    return kind, seed


def _storage(raw: Any, problems: Problems) -> str:
    if not isinstance(raw, str) or not raw.startswith(STORAGE_SCHEMES):
        problems.add(
            "search.storage",
            f"{raw!r} is not a storage; valid: journal (a file in the sweep folder), "
            "sqlite:///PATH, postgresql://USER@HOST/DB",
        )
        return "journal"
    return raw


def probe_axes(search: SearchSpec) -> Any:
    """A cases node with one case per edge value of each parameter: the spec's config checks run
    over it at load time, so a key the config lacks or a value of the wrong type is one line
    before any study starts."""
    from harness.spec.model import Case, Cases

    items = [
        Case(f"{p.name}={value_label(v)}", {p.key: v}) for p in search.space for v in edge_values(p)
    ]
    return Cases("search.space", tuple(items), where="search.space")


def check_search(spec: SweepSpec, problems: Problems) -> None:
    """A study's space at its edges, checked against every profile's config like a grid's cells
    (a key the config lacks, a value of the wrong type: one line before any study starts)."""
    assert spec.search is not None
    checker = ConfigChecker(problems)
    for name in spec.search.space_by_profile:
        if name not in spec.profiles:
            problems.add(
                f"search.by_profile.{name}", f"no profile {name!r}; valid: {sorted(spec.profiles)}"
            )
    for pname, profile in spec.profiles.items():
        search = spec.search.for_profile(pname)
        own = pname in spec.search.pruner_by_profile
        where = f"search.by_profile.{pname}.pruner" if own else "search.pruner"
        check_prunable(search.pruner, search.objectives, spec.seeds_of(profile), problems, where)
        cfg = checker.profile(profile, f"profiles.{pname}")
        if cfg is not None:
            probe = probe_axes(spec.search.for_profile(pname))
            checker.cells(probe, cfg, spec.seed_key, profile, None)
