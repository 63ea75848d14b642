"""The one bridge to the harness: a sweep spec and its plan -> the plain inputs of a table.

``harness.spec`` and ``harness.plan`` are pure (no torch, mmcv, mmdet), so importing them keeps
the analysis within its import contract. The plan says which record belongs to each cell now and
which cells are new, running, failed or stale; this module reads those records.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.counts import count_cells
from analysis.errors import RecordError, TableSpecError
from analysis.layout import CellState, TableLayout
from analysis.records import parse_record, read_record
from harness.plan import gc_paused, make_plan
from harness.spec import load_spec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepInputs:
    """Everything :func:`analysis.table.build_table` needs for one sweep.

    Attributes:
        spec_path: the spec file.
        layout: its table block.
        axis_values: axis name -> value labels in spec order.
        cells: every cell of the profile with its state.
        corrupt: the record files that could not be read, with the reason (one line each).
        overrides: the profile's overrides (the knobs of a count table's curves).
    """

    spec_path: Path
    layout: TableLayout
    axis_values: Mapping[str, Sequence[str]]
    cells: tuple[CellState, ...]
    corrupt: tuple[str, ...]
    overrides: Mapping[str, Any] = field(default_factory=dict)


def has_table(spec_path: Path) -> bool:
    """Whether a spec has a ``table`` block (``--all`` skips the specs that do not)."""
    return load_spec(spec_path).table is not None


def load_sweep(spec_path: Path, profile: str | None, runs_root: Path) -> SweepInputs:
    """Load a spec, plan it against the runs root, and read the record of every planned cell.

    Args:
        spec_path: the sweep spec.
        profile: the profile to tabulate (None: the spec's default profile).
        runs_root: where the harness writes run folders.

    Raises:
        harness.errors.SpecError: the spec is invalid.
        TableSpecError: the spec has no ``table`` block or an invalid one (the message does not
            name the file: the caller adds it).
    """
    spec = load_spec(spec_path)
    block = spec.table
    if block is None:
        raise TableSpecError(
            "no 'table' block; add one with title, label, rows, columns and metrics "
            "(docs/record.md)"
        )
    name = profile or spec.default_profile
    layout = TableLayout(
        sweep=spec.name,
        title=block.title,
        label=block.label or f"tab:{spec.name}",
        rows=block.rows,
        columns=block.columns,
        metrics=tuple(block.metrics),
        baseline=_plain(block.baseline_of(name)),
        delta=block.delta,
        kind=block.kind,
        profile=name,
    )
    axis_values = spec.axis_values(name)
    if layout.kind == "counts":
        overrides = dict(spec.profile(name).overrides)
        cells = count_cells(spec.cells(name), overrides)
        return SweepInputs(spec_path, layout, axis_values, tuple(cells), (), overrides)
    states, corrupt = [], []
    with gc_paused():  # records by the ten thousand, no cycles: see gc_paused
        for planned in make_plan(spec, name, runs_root=runs_root).cells:
            state = _state(planned)
            if state.status == "corrupt" and state.problem:
                corrupt.append(state.problem)
            states.append(state)
    return SweepInputs(spec_path, layout, axis_values, tuple(states), tuple(corrupt))


def _plain(baseline: Mapping[str, str] | None) -> dict[str, str] | None:
    return dict(baseline) if baseline is not None else None


def _state(planned: Any) -> CellState:
    """A planned cell with its record read (a corrupt record marks the cell ``corrupt``)."""
    cell = planned.cell
    record, status, problem = None, str(planned.status), None
    path = planned.record_path  # the plan's Path: its text is already cached from the read
    raw = getattr(planned, "record", None)
    if path is not None and (raw is not None or path.exists()):
        try:
            record = read_record(path) if raw is None else parse_record(raw, path)
        except RecordError as exc:
            status, problem = "corrupt", str(exc)
    return CellState(
        label=cell.label,
        coords=dict(cell.coords),
        seed=cell.seed,
        status=status,
        run_id=str(planned.run_id),
        record=record,
        problem=problem,
    )
