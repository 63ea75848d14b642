"""The table of a search spec: one row per config its study trained, from the records alone.

A search spec has no ``table`` block and no grid: its cells are the run folders under its sweep
folder. Each row is one config (its seeds merged), named by its parameters, with the study's
objectives that the tables can print (record metrics and parameter counts) and the AP/decoder
pair the Pareto figure draws; rows on the Pareto front of the objectives carry ``(front)``. The
study itself is not read: the records say everything the table prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from analysis.errors import TableSpecError
from analysis.layout import CellState, TableLayout
from analysis.quantities import quantity, short_axis
from analysis.sweep import SweepInputs
from harness.layout import sweep_dir
from harness.records.match import sweep_records
from harness.records.record import RunRecord
from harness.spec.model import SweepSpec, TableSpec
from harness.spec.search_model import TRIAL_AXIS, SearchSpec

SHOWN = ("bbox_mAP", "params.roi_head")  # what the Pareto figure needs, shown in any case
FRONT = " (front)"


def _records(spec: SweepSpec, profile: str, runs_root: Path) -> tuple[list[RunRecord], list[str]]:
    folder = sweep_dir(runs_root, spec.name, profile)
    records, corrupt = sweep_records(folder, spec.name, profile)
    order = {r.run_id: (r.search or {}).get("trial", 10**9) for r in records}
    records.sort(key=lambda r: (order[r.run_id], r.label))
    return records, corrupt


def _means(records: Sequence[RunRecord], search: SearchSpec) -> dict[str, list[float]]:
    """Config -> the mean of each objective over its done seeds (configs missing one left out)."""
    by_config: dict[str, list[RunRecord]] = {}
    for r in records:
        if r.status == "done":
            by_config.setdefault(r.coords.get(TRIAL_AXIS, r.label), []).append(r)
    out = {}
    for config, members in by_config.items():
        values = []
        for o in search.objectives:
            got = [r.value(o.metric) for r in members]
            if any(v is None for v in got):
                break
            mean = sum(v for v in got if v is not None) / len(got)
            values.append(mean if o.direction == "maximize" else -mean)  # all "higher is better"
        else:
            out[config] = values
    return out


def front_of(means: Mapping[str, Sequence[float]]) -> set[str]:
    """The configs no other config beats on every objective (at least as good, one strictly)."""

    def beats(a: Sequence[float], b: Sequence[float]) -> bool:
        return all(x >= y for x, y in zip(a, b, strict=True)) and any(
            x > y for x, y in zip(a, b, strict=True)
        )

    return {c for c, v in means.items() if not any(beats(w, v) for d, w in means.items() if d != c)}


def search_inputs(spec: SweepSpec, spec_path: Path, profile: str, runs_root: Path) -> SweepInputs:
    """The inputs of a search spec's table (``make_tables`` calls this for a ``search`` block)."""
    assert spec.search is not None
    search = spec.search.for_profile(profile)
    records, corrupt = _records(spec, profile, runs_root)
    front = front_of(_means(records, search))
    metrics = [o.metric for o in search.objectives if _printable(o.metric)]
    metrics += [m for m in SHOWN if m not in metrics]
    kind = "Pareto front" if len(search.objectives) > 1 else "best config"
    table = TableSpec(
        title=f"{spec.name}: every config its study trained; {kind} marked (front)",
        label=f"tab:{spec.name}",
        rows="label",
        columns="metrics",
        metrics=tuple(metrics),
    )
    cells = []
    for r in records:
        config = r.coords.get(TRIAL_AXIS, r.label)
        shown = short_config(config) + (FRONT if config in front else "")
        known = ("queued", "running", "done", "failed", "pruned")
        status = r.status if r.status in known else "failed"
        cells.append(
            CellState(
                r.label,
                {TRIAL_AXIS: shown},
                r.seed,
                status,
                run_id=r.run_id,
                record=r,
                problem=_pruned_note(r, search.objectives[0].metric),
            )
        )
    layout = TableLayout(spec.name, table, profile)
    return SweepInputs(spec_path, layout, {}, tuple(cells), tuple(corrupt), search=search,
                       runs_root=runs_root)  # fmt: skip


def _pruned_note(r: RunRecord, metric: str) -> str | None:
    """``pruned at step 200 (iteration 200) by trial 3; bbox_mAP 0.081 at its last evaluation``
    (``metric``: what the pruner compared, the study's first objective)."""
    stop = r.pruned if r.status == "pruned" else None
    if not stop:
        return None
    value = stop.get("value")
    last = f"; {metric} {value:.4g} there" if isinstance(value, int | float) else ""
    return (f"pruned at step {stop.get('step')} (iteration {stop.get('iter')}) by trial "
            f"{stop.get('trial')}{last}")  # fmt: skip


def short_config(config: str) -> str:
    """``r=12, K=2, r_T=4, parts=shared`` for ``adaptive_rank=12,adaptive_groups=2,...``: the
    knobs' short names, so a row and a figure label stay readable."""
    parts = []
    for item in config.split(","):
        name, sep, value = item.partition("=")
        parts.append(f"{short_axis(name)}={value}" if sep else item)
    return ", ".join(parts)


def _printable(metric: str) -> bool:
    try:
        quantity(metric, "runs")
    except TableSpecError:  # history.<result>: no unit the tables know
        return False
    return True
