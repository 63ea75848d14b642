"""The plain inputs of a table: its layout (the spec's ``table`` block) and the state of each cell.

These types keep :mod:`analysis.table` independent of how the harness represents specs and plans;
:mod:`analysis.sweep` converts the harness's objects into them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from analysis.errors import TableSpecError
from analysis.quantities import quantity, short_axis
from harness.records.record import RunRecord
from harness.records.schema import CELL_STATUSES
from harness.spec.model import TableSpec

KINDS = ("runs", "counts")
LABEL_AXIS = "label"
METRICS_AXIS = "metrics"


@dataclass(frozen=True)
class TableLayout:
    """The spec's ``table`` block (``harness.spec.TableSpec``) as one profile's table shows it.

    Attributes:
        sweep: the sweep's name (names the output files).
        table: the spec's table block; its fields read through this object, with the label
            defaulting to ``tab:<sweep>`` and the baseline taken for ``profile``.
        profile: the profile the table shows; anything but ``paper`` is flagged in the output.
    """

    sweep: str
    table: TableSpec
    profile: str = "paper"

    @classmethod
    def make(cls, sweep: str, profile: str = "paper", **fields: Any) -> TableLayout:
        """A layout from table-block fields (``title``, ``rows``, ...), as a spec would give."""
        fields.setdefault("label", "")
        if fields.get("metrics") is not None:
            fields["metrics"] = tuple(fields["metrics"])
        return cls(sweep, TableSpec(**fields), profile)

    @property
    def title(self) -> str:
        """The caption."""
        return self.table.title

    @property
    def label(self) -> str:
        """The LaTeX label."""
        return self.table.label or f"tab:{self.sweep}"

    @property
    def rows(self) -> str:
        """An axis name, or ``label`` (one row per cell label, seeds merged)."""
        return self.table.rows

    @property
    def columns(self) -> str:
        """An axis name, or ``metrics`` (one column per metric)."""
        return self.table.columns

    @property
    def metrics(self) -> tuple[str, ...]:
        """Metric keys (see :mod:`analysis.quantities`)."""
        return tuple(self.table.metrics)

    @property
    def baseline(self) -> Mapping[str, str] | None:
        """Coords of the row the Δ column compares with in this profile, or None."""
        return self.table.baseline_of(self.profile)

    @property
    def delta(self) -> str | None:
        """The metric of the Δ column, or None."""
        return self.table.delta

    @property
    def kind(self) -> str:
        """``runs`` (cells are records) or ``counts`` (cells are computed parameter counts)."""
        return self.table.kind

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise TableSpecError(f"table.kind: {self.kind!r} is not valid; valid: runs, counts")
        if not self.metrics:
            raise TableSpecError("table.metrics: empty; list at least one metric")
        for key in self.metrics:
            quantity(key, self.kind)
        if self.rows == self.columns:
            raise TableSpecError(f"table: rows and columns are both {self.rows!r}; pick two")
        if self.rows == METRICS_AXIS:
            raise TableSpecError("table.rows: 'metrics' can only be used as table.columns")
        if (self.delta is None) != (self.baseline is None):
            raise TableSpecError("table: 'delta' and 'baseline' go together; set both or neither")
        if self.delta is not None and self.delta not in self.metrics:
            raise TableSpecError(
                f"table.delta: {self.delta!r} is not one of table.metrics "
                f"({', '.join(self.metrics)})"
            )

    @property
    def is_paper(self) -> bool:
        """Whether the table shows paper-profile numbers (anything else is labelled as such)."""
        return self.profile == "paper"


@dataclass(frozen=True)
class CellState:
    """One cell of the sweep (one seed) as the plan sees it now.

    Attributes:
        label: the cell's label (seed included).
        coords: axis name -> value label.
        seed: the seed, or None.
        status: one of ``CELL_STATUSES``; ``done`` with ``older`` set for a result made by an
            older run (other code, config or data than today's), shown and marked.
        run_id: the run id of the record shown, else the one the cell has today; None for
            count tables.
        record: the record shown (for ``stale``, the older run's record), or None.
        counts: computed values by metric key (count tables only).
        problem: why the cell is not usable (e.g. the corrupt file and its error), or None.
        sources: metric key -> how a count cell's value was computed (function and arguments).
        older: for a result from an older run, what changed since (one line), else None.
        evaluated: for an evaluation of a given checkpoint (``harness.evaluate``: a row the
            sweep did not train, :mod:`analysis.evaluations`), the checkpoint's ``file`` and
            ``sha256``; None for a cell of the sweep.
    """

    label: str
    coords: Mapping[str, str]
    seed: int | None
    status: str
    run_id: str | None = None
    record: RunRecord | None = None
    counts: Mapping[str, float] = field(default_factory=dict)
    problem: str | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    older: str | None = None
    evaluated: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if self.status not in CELL_STATUSES:
            raise TableSpecError(
                f"cell {self.label!r}: status {self.status!r} is not valid; "
                f"valid: {', '.join(CELL_STATUSES)}"
            )

    def value(self, key: str) -> float | None:
        """The raw value of ``key`` for a done cell (None when it has none)."""
        if key.startswith("counts."):
            return self.counts.get(key)
        if self.record is None or self.status != "done":
            return None
        return self.record.value(key)

    @property
    def row_label(self) -> str:
        """The label without its seed part (the harness's name of the cell, seeds merged)."""
        return seedless(self.label)

    @property
    def row_title(self) -> str:
        """The row of a ``rows: label`` table: the value of a single axis (``AdaMixer``), else
        the coords with short axis names (``K=2, r=16``)."""
        if len(self.coords) == 1:
            return next(iter(self.coords.values()))
        if not self.coords:
            return self.row_label or "all"
        return ", ".join(f"{short_axis(a)}={v}" for a, v in self.coords.items())


_SEED = re.compile(r"(^|[,;\s]+)seed=-?\d+(?=$|[,;\s])")


def seedless(label: str) -> str:
    """Drop the ``seed=N`` part of a cell label (``K=2,r=16,seed=0`` -> ``K=2,r=16``)."""
    return _SEED.sub("", label).strip(",; ")
