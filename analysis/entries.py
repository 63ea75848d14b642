"""The cells of a built table: entries (what one position prints), problems, the table itself.

Shared by the table build (:mod:`analysis.table`), the Δ column (:mod:`analysis.delta`) and the
renderers; data only, no formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from analysis.layout import CellState, TableLayout

#: Entry states that are not a number, most urgent first (the placeholder shows the first found).
PLACEHOLDERS = (
    "corrupt", "failed", "stale", "pruned", "running", "queued", "missing", "no value",
)  # fmt: skip
BY_STATUS = {"new": "missing", "done": "no value"}
DELTA_PREFIX = "delta:"


@dataclass(frozen=True)
class Entry:
    """One printed cell of a table.

    Attributes:
        metric: the metric key, ``delta:<metric>`` for a Δ column, or "" for a hole.
        state: ``done``; ``partial`` (some seeds done, printed with done/expected); a placeholder
            state of :data:`PLACEHOLDERS`; ``hole`` (no cell of the sweep sits here);
            ``baseline`` (the Δ of the baseline row itself); ``no baseline``.
        mean: mean over done seeds, in the printed unit (for Δ, the difference), or None.
        std: sample standard deviation over done seeds (None with fewer than two).
        n: seeds that gave a value.
        expected: seeds the sweep has for this cell.
        cells: the sweep cells (one per seed) this entry merges.
        best: the best value of its column (printed bold).
        values: the value of each done seed, in the printed unit (what a Δ is tested on).
        p_value: for a Δ entry, the p-value of the test against noise (:mod:`analysis.noise`);
            None when it could not be tested (fewer than two seeds on a side).
        older: the labels of the seeds whose value comes from an older run (other code, config
            or data than today's): printed, and marked.
    """

    metric: str
    state: str
    mean: float | None = None
    std: float | None = None
    n: int = 0
    expected: int = 0
    cells: tuple[CellState, ...] = ()
    best: bool = False
    values: tuple[float, ...] = ()
    p_value: float | None = None
    older: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        """Whether the entry is a final number (all seeds done and valued)."""
        return self.state == "done"

    @property
    def is_delta(self) -> bool:
        """Whether the entry is a Δ column's (a difference from the baseline row)."""
        return self.metric.startswith(DELTA_PREFIX)


@dataclass(frozen=True)
class Problem:
    """A sweep cell behind a printed entry that is not done, reported on stderr with its run id."""

    label: str
    status: str
    run_id: str | None
    detail: str | None = None

    def line(self, sweep: str) -> str:
        """One line for stderr: ``table6: K=2,r=16,seed=1: running (run 3fa2c1d0e9ab)``."""
        run = f"run {self.run_id}" if self.run_id else "no run"
        extra = f": {self.detail}" if self.detail else ""
        return f"{sweep}: {self.label}: {self.status} ({run}){extra}"


def older_cells(cells: Sequence[CellState], metric: str) -> tuple[str, ...]:
    """The labels of the cells whose value of ``metric`` comes from an older run."""
    return tuple(c.label for c in cells if c.older and c.value(metric) is not None)


@dataclass(frozen=True)
class Table:
    """A built table.

    Attributes:
        layout: the table block it follows.
        frame: :class:`Entry` objects; index = row keys (name: the rows axis); columns = metric
            keys (``columns: metrics``) or a MultiIndex (column-axis value, metric key).
        problems: every cell that is not done, in table order.
        evaluated: the rows that evaluate a given checkpoint (:mod:`analysis.evaluations`),
            after the sweep's rows; not trained by the sweep.
    """

    layout: TableLayout
    frame: pd.DataFrame
    problems: tuple[Problem, ...]
    evaluated: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Whether every entry that should hold a number does."""
        return not self.problems

    def older(self) -> dict[str, str]:
        """Label -> what changed, for every sweep cell whose printed value comes from an older
        run, in table order (``--strict`` refuses these)."""
        out: dict[str, str] = {}
        for entry in self.frame.to_numpy().ravel():
            for cell in entry.cells:
                if cell.older and cell.label in entry.older:
                    out.setdefault(cell.label, cell.older)
        return out


def placeholder(cells: Sequence[CellState]) -> str:
    states = {BY_STATUS.get(c.status, c.status) for c in cells}
    return next(p for p in PLACEHOLDERS if p in states)
