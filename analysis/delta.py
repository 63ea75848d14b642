"""The Δ column: each row's value of the delta metric minus the baseline row's, tested against
seed noise (:mod:`analysis.noise`).

The baseline is named by coordinates in the spec's ``table.baseline``; when it also names the
column axis, every column compares with that one column. A baseline that a profile's subset
leaves out gives ``no baseline`` entries (with a warning), not an error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from analysis.entries import DELTA_PREFIX, Entry, placeholder
from analysis.errors import TableSpecError
from analysis.layout import LABEL_AXIS, CellState, TableLayout
from analysis.noise import welch_p_value

logger = logging.getLogger(__name__)


def fill_delta(
    layout: TableLayout,
    baseline: tuple[str, str | None],
    rows: Sequence[str],
    keys: Sequence[tuple[str | None, str]],
    grid: dict[tuple[str, tuple[str | None, str]], Entry],
) -> None:
    """Δ of each row against the baseline row (from :func:`find_baseline`), in the same column
    group (or the one the baseline names)."""
    assert layout.delta is not None  # TableLayout checks that delta and baseline come together
    base_row, base_group = baseline
    for group, metric in keys:
        if not metric.startswith(DELTA_PREFIX):
            continue
        ref_group = base_group if base_group is not None else group
        ref = grid.get((base_row, (ref_group, layout.delta)))
        for row in rows:
            own = grid[(row, (group, layout.delta))]
            is_base = row == base_row and ref_group == group
            grid[(row, (group, metric))] = _delta(metric, own, ref, is_base)


def _delta(key: str, own: Entry, ref: Entry | None, is_base: bool) -> Entry:
    if own.state == "hole":
        return Entry(key, "hole")
    if is_base:
        return Entry(key, "baseline", cells=own.cells)
    if not own.done:
        pending = [c for c in own.cells if c.value(own.metric) is None]
        return Entry(key, placeholder(pending), expected=own.expected, cells=own.cells)
    if ref is None or not ref.done or ref.mean is None or own.mean is None:
        return Entry(key, "no baseline", cells=own.cells)
    return Entry(
        key,
        "done",
        mean=own.mean - ref.mean,
        n=own.n,
        expected=own.expected,
        cells=own.cells,
        p_value=welch_p_value(own.values, ref.values),
        older=(*own.older, *ref.older),
    )


def find_baseline(
    layout: TableLayout,
    groups: Mapping[tuple[str, str | None], Sequence[CellState]],
    rows: Sequence[str],
) -> tuple[str, str | None] | None:
    """The row (and, when the baseline names the column axis, the column) Δ compares with;
    None when the baseline is not among the cells (left out by a profile's subset)."""
    assert layout.baseline is not None
    want = {k: v for k, v in layout.baseline.items() if k != layout.columns}
    col = layout.baseline.get(layout.columns)

    def fits(cell: CellState) -> bool:
        return all(
            v in (cell.row_label, cell.row_title) if k == LABEL_AXIS else cell.coords.get(k) == v
            for k, v in want.items()
        )

    matches = [
        row
        for row in rows
        if any(fits(c) for (r, _), members in groups.items() if r == row for c in members)
    ]
    shown = ", ".join(f"{k}={v}" for k, v in layout.baseline.items())
    if len(matches) > 1:
        raise TableSpecError(
            f"table.baseline: {{{shown}}} matches {len(matches)} rows "
            f"({', '.join(matches)}); it must match exactly one of: {', '.join(rows)}"
        )
    if not matches or (col is not None and not any(c == col for _, c in groups)):
        logger.warning(
            "%s (%s profile): the baseline {%s} is not among this profile's cells; the Δ "
            "column is left out",
            layout.sweep,
            layout.profile,
            shown,
        )
        return None
    return matches[0], col
