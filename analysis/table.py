"""Pure table building: a layout and the state of every cell -> a paper-shaped DataFrame.

Nothing here reads files or formats text. Each printed cell is an :class:`Entry`: the mean and
standard deviation over the cell's seeds in the printed unit (AP in percent, parameters in
millions), how many seeds it merges, whether it is the best of its column, and, when it is not
done, the state that its placeholder shows. The renderers (:mod:`analysis.render`) only format.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

import pandas as pd

from analysis.delta import fill_delta, find_baseline
from analysis.entries import (
    BY_STATUS,
    DELTA_PREFIX,
    Entry,
    Problem,
    Table,
    older_cells,
    placeholder,
)
from analysis.errors import TableSpecError
from analysis.evaluations import place
from analysis.layout import LABEL_AXIS, METRICS_AXIS, CellState, TableLayout
from analysis.quantities import quantity

__all__ = ["Entry", "Problem", "Table", "build_table", "check_metrics", "sample_std"]


def build_table(
    layout: TableLayout,
    axis_values: Mapping[str, Sequence[str]],
    cells: Sequence[CellState],
    evaluations: Sequence[CellState] = (),
) -> Table:
    """Build the table of a sweep.

    Args:
        layout: the table block.
        axis_values: axis name -> value labels in spec order (orders rows and columns).
        cells: every cell of the sweep (all seeds) with its current state.
        evaluations: evaluations of a given checkpoint (:mod:`analysis.evaluations`), one row
            each after the sweep's rows; they change nothing in the sweep's rows.

    Returns:
        The table; rows and columns follow the spec order of their axis values.

    Raises:
        TableSpecError: rows/columns name no axis of the sweep, a metric no done record has, two
            different cells would land in one table cell, or the baseline matches several rows.
    """
    if layout.kind == "runs":
        check_metrics(layout, [*cells, *evaluations])
    groups = _group(layout, cells)
    rows = _order([r for r, _ in groups], axis_values.get(layout.rows))
    baseline = find_baseline(layout, groups, rows) if layout.delta else None
    delta = layout.delta if baseline else None
    metrics = [*layout.metrics, *([DELTA_PREFIX + delta] if delta else [])]
    if layout.columns == METRICS_AXIS:
        keys: list[tuple[str | None, str]] = [(None, m) for m in metrics]
        columns: pd.Index = pd.Index(metrics, name=METRICS_AXIS)
    else:
        values = _order([c for _, c in groups], axis_values.get(layout.columns))
        keys = [(v, m) for v in values for m in metrics]
        columns = pd.MultiIndex.from_tuples(keys, names=[layout.columns, METRICS_AXIS])
    grid = {
        (row, key): _aggregate(layout, key[1], groups.get((row, key[0]), ()))
        for row in rows
        for key in keys
    }
    if baseline is not None:
        fill_delta(layout, baseline, rows, keys, grid)
    if layout.kind == "runs":
        _mark_best(rows, keys, grid)
    evaluated = []
    for row, group, cell in place(layout, evaluations, rows):  # after the bold: not ranked
        evaluated.append(row)
        for key in keys:
            # An evaluation's Δ is a dash, not a number. The Δ column compares runs the sweep
            # trained under one protocol (schedule, data, code) with the baseline, tested against
            # their seeds; a checkpoint trained elsewhere differs in all of that at once and has
            # no seeds, so its difference would read as the method's effect, untested, when it
            # is not one; and a Δ against the reproduced row of the same model would give the
            # column a second meaning. Its metrics sit beside the reproduced rows' to compare.
            if key[0] != group or key[1].startswith(DELTA_PREFIX):
                grid[(row, key)] = Entry(key[1], "hole")
            else:
                grid[(row, key)] = _aggregate(layout, key[1], (cell,))
    rows = [*rows, *evaluated]
    frame = pd.DataFrame(
        [[grid[(row, key)] for key in keys] for row in rows],
        index=pd.Index(rows, name=layout.rows),
        columns=columns,
        dtype=object,
    )
    return Table(layout, frame, tuple(_problems(frame)), tuple(evaluated))


def sample_std(values: Sequence[float]) -> float | None:
    """Sample standard deviation (n - 1), None below two values. Plain floats: ``statistics``
    computes it exactly with fractions, which costs seconds on a 10,000-run sweep."""
    if len(values) < 2:
        return None
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))


def check_metrics(layout: TableLayout, cells: Sequence[CellState]) -> None:
    """Fail when done records exist but none of them has a metric the table asks for.

    Raises:
        TableSpecError: names the metric and lists the keys the done records do have.
    """
    records = [c.record for c in cells if c.status == "done" and c.record is not None]
    if not records:
        return
    have: set[str] = set()
    for record in records:
        have.update(record.metrics)
        have.update(f"params.{k}" for k in record.params)
    for metric in (*layout.metrics, *([layout.delta] if layout.delta else [])):
        if metric not in have:
            raise TableSpecError(
                f"table.metrics: no record of sweep {layout.sweep!r} has {metric!r}; "
                f"the done records have: {', '.join(sorted(have)) or 'nothing'}"
            )


def _group(
    layout: TableLayout, cells: Sequence[CellState]
) -> dict[tuple[str, str | None], tuple[CellState, ...]]:
    """Cells by (row key, column-axis value); checks that each table cell holds one sweep cell."""
    out: dict[tuple[str, str | None], list[CellState]] = {}
    for cell in cells:
        row = cell.row_title if layout.rows == LABEL_AXIS else _coord(cell, layout.rows, "rows")
        col = None if layout.columns == METRICS_AXIS else _coord(cell, layout.columns, "columns")
        members = out.setdefault((row, col), [])
        if members and dict(members[0].coords) != dict(cell.coords):
            raise TableSpecError(
                f"table: cells {members[0].label!r} and {cell.label!r} both land in row {row!r}"
                + (f", column {col!r}" if col is not None else "")
                + "; make the axis that tells them apart the rows or columns, or use rows: label"
            )
        members.append(cell)
    return {key: tuple(members) for key, members in out.items()}


def _coord(cell: CellState, axis: str, which: str) -> str:
    try:
        return cell.coords[axis]
    except KeyError:
        axes = ", ".join(sorted(cell.coords)) or "none"
        choices = f"{axes}, label" if which == "rows" else f"{axes}, metrics"
        raise TableSpecError(
            f"table.{which}: {axis!r} is not an axis of the sweep; valid: {choices}"
        ) from None


def _order(found: Sequence[str | None], spec_order: Sequence[str] | None) -> list[str]:
    """Distinct values, in spec order where the spec lists them, else in order of appearance."""
    first = {v: i for i, v in reversed(list(enumerate(found))) if v is not None}
    rank = {v: i for i, v in enumerate(spec_order or ())}
    return sorted(first, key=lambda v: (rank.get(v, len(rank)), first[v]))


def _aggregate(layout: TableLayout, metric: str, cells: Sequence[CellState]) -> Entry:
    if metric.startswith(DELTA_PREFIX) or not cells:
        return Entry(metric, "hole")  # a Δ entry is filled in by _fill_delta
    q = quantity(metric, layout.kind)
    raw = [c.value(metric) for c in cells]
    values = [q.display(v) for v in raw if v is not None]
    if not values:
        return Entry(metric, placeholder(cells), expected=len(cells), cells=tuple(cells))
    return Entry(
        metric,
        "done" if len(values) == len(cells) else "partial",
        mean=math.fsum(values) / len(values),
        std=sample_std(values),
        n=len(values),
        expected=len(cells),
        cells=tuple(cells),
        values=tuple(values),
        older=older_cells(cells, metric),
    )


def _mark_best(
    rows: Sequence[str],
    keys: Sequence[tuple[str | None, str]],
    grid: dict[tuple[str, tuple[str | None, str]], Entry],
) -> None:
    """Bold the best value of each column, compared at printed precision (ties all bold)."""
    for key in keys:
        if key[1].startswith(DELTA_PREFIX):
            continue
        q = quantity(key[1])
        done = [(row, grid[(row, key)]) for row in rows if grid[(row, key)].done]
        if len(done) < 2:
            continue
        shown = {row: round(e.mean or 0.0, q.decimals) for row, e in done}
        best = max(shown.values()) if q.higher_is_better else min(shown.values())
        for row, entry in done:
            if shown[row] == best:
                grid[(row, key)] = replace(entry, best=True)


def _problems(frame: pd.DataFrame) -> list[Problem]:
    """Every sweep cell behind a not-done entry, once per cell (null metrics listed together)."""
    states: dict[str, CellState] = {}
    nulls: dict[str, list[str]] = {}
    for entry in frame.to_numpy().ravel():
        if entry.done or entry.state in ("hole", "baseline", "no baseline"):
            continue
        if entry.metric.startswith(DELTA_PREFIX):
            continue
        for cell in entry.cells:
            if cell.status != "done":
                states.setdefault(cell.label, cell)
            elif cell.value(entry.metric) is None:
                states.setdefault(cell.label, cell)
                nulls.setdefault(cell.label, []).append(entry.metric)
    out = []
    for label, cell in states.items():
        if cell.status == "done":
            detail = f"no value in the record (null or COCO's -1): {', '.join(nulls[label])}"
            out.append(Problem(label, "no value", cell.run_id, detail))
        else:
            status = BY_STATUS.get(cell.status, cell.status)
            out.append(Problem(label, status, cell.run_id, cell.problem))
    return out
