"""The ``table`` block of a sweep spec: parsed into a :class:`TableSpec`, checked against the axes.

The analysis reads this block to lay a sweep out as a paper table (docs/record.md); the loader
(:mod:`harness.spec.loader`) calls these functions, so every problem is collected with the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.records.schema import METRIC_KEYS, PARAM_KEYS
from harness.spec.expand import axis_values
from harness.spec.model import TABLE_KINDS, SweepSpec, TableSpec
from harness.spec.reading import Problems, check_keys, check_str

TABLE_KEYS: tuple[str, ...] = (
    "title",
    "label",
    "rows",
    "columns",
    "metrics",
    "baseline",
    "delta",
    "kind",
    "by_profile",
)
TABLE_PROFILE_KEYS: tuple[str, ...] = ("baseline",)


def parse_table(raw: Any, problems: Problems) -> TableSpec | None:
    """The spec's ``table`` block (docs/record.md), or None after reporting why it is not one."""
    if not check_keys(
        raw, "table", TABLE_KEYS, problems, required=("title", "rows", "columns", "metrics")
    ):
        return None
    kind = raw.get("kind", "runs")
    if kind not in TABLE_KINDS:
        problems.add(
            "table.kind", f"{kind!r} is not a table kind; valid kinds: {list(TABLE_KINDS)}"
        )
    metrics = raw.get("metrics")
    if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) for m in metrics):
        problems.add("table.metrics", f"must be a non-empty list of metric keys, got {metrics!r}")
        metrics = []
    valid = [*METRIC_KEYS, *(f"params.{k}" for k in PARAM_KEYS)]
    for m in metrics if kind == "runs" else []:
        if m not in valid:
            problems.add("table.metrics", f"unknown metric {m!r}; valid metrics: {valid}")
    delta = raw.get("delta")
    if delta is not None and delta not in metrics:
        problems.add("table.delta", f"{delta!r} is not one of table.metrics {metrics}")
    baseline = _baseline(raw.get("baseline"), "table.baseline", problems)
    by_profile: dict[str, dict[str, str]] = {}
    overlays = raw.get("by_profile") or {}
    if not isinstance(overlays, Mapping):
        problems.add("table.by_profile", "must map profile names to {baseline: ...}")
        overlays = {}
    for pname, body in overlays.items():
        where = f"table.by_profile.{pname}"
        if check_keys(body, where, TABLE_PROFILE_KEYS, problems):
            own = _baseline(body.get("baseline"), f"{where}.baseline", problems)
            if own is not None:
                by_profile[str(pname)] = own
    if by_profile and delta is None:
        problems.add("table.by_profile", "sets a baseline, but the table has no delta metric")
    return TableSpec(
        title=check_str(raw.get("title"), "table.title", problems),
        label=str(raw.get("label", "")),
        rows=check_str(raw.get("rows"), "table.rows", problems),
        columns=check_str(raw.get("columns"), "table.columns", problems),
        metrics=tuple(metrics),
        baseline=baseline,
        delta=delta,
        kind=kind if kind in TABLE_KINDS else "runs",
        baseline_by_profile=by_profile,
    )


def _baseline(raw: Any, where: str, problems: Problems) -> dict[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or not raw:
        problems.add(where, "must map axis names to value labels")
        return None
    return {str(k): str(v) for k, v in raw.items()}


def check_table_axes(spec: SweepSpec, table: TableSpec, problems: Problems) -> None:
    """Rows, columns and every baseline name axes and values the spec (and profile) has."""
    values = axis_values(spec.axes, spec.profile())
    if table.rows not in (*values, "label"):
        problems.add("table.rows", f"{table.rows!r} is not an axis; valid: {[*values, 'label']}")
    if table.columns not in (*values, "metrics", "label"):
        problems.add(
            "table.columns", f"{table.columns!r} is not an axis; valid: {[*values, 'metrics']}"
        )
    _check_baseline(table.baseline, "table.baseline", values, problems)
    for pname, baseline in table.baseline_by_profile.items():
        where = f"table.by_profile.{pname}"
        if pname not in spec.profiles:
            problems.add(where, f"no profile {pname!r}; valid profiles: {sorted(spec.profiles)}")
            continue
        kept = axis_values(spec.axes, spec.profiles[pname])
        _check_baseline(baseline, f"{where}.baseline", kept, problems)


def _check_baseline(
    baseline: Mapping[str, str] | None,
    where: str,
    values: Mapping[str, list[str]],
    problems: Problems,
) -> None:
    for axis, label in (baseline or {}).items():
        if axis not in values:
            problems.add(f"{where}.{axis}", f"no axis {axis!r}; axes: {list(values)}")
        elif label not in values[axis]:
            problems.add(f"{where}.{axis}", f"{label!r} is not a value; values: {values[axis]}")
