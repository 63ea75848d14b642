"""The one bridge to the harness: a sweep spec and the records under its folder -> a table's inputs.

Cells come from the spec (``harness.spec``), each with its identity today
(``harness.identity``); records are matched to cells by sweep, profile and label
(``harness.records.match``), never by re-planning. A result from an older run (other code, config
or data) stays in the table, marked with what changed; the dataset need not be here (then config
and code decide). The other records of the sweep folder that evaluate a given checkpoint
(``harness.evaluate``) become extra rows (:mod:`analysis.evaluations`). Nothing imports torch,
mmcv or mmdet, and nothing is written.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.counts import count_cells
from analysis.errors import TableSpecError
from analysis.evaluations import evaluation_cells
from analysis.layout import CellState, TableLayout
from harness.gcpause import gc_paused
from harness.identity import CodeVersion, ResolvedCell, code_version, resolve_cells
from harness.journal import JournalState, read_journal
from harness.layout import sweep_dir
from harness.records.diff import describe
from harness.records.match import Match, match_cell
from harness.records.store import scan_sweep
from harness.spec import load_spec
from harness.spec.expand import label_slug

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
        search: a search spec's block as its profile runs it (None for a grid sweep).
        runs_root: the runs root the records came from (a search's figures overlay a grid).
        evaluations: the evaluations of a given checkpoint under the sweep folder, one per label
            (rows the sweep did not train: :mod:`analysis.evaluations`).
    """

    spec_path: Path
    layout: TableLayout
    axis_values: Mapping[str, Sequence[str]]
    cells: tuple[CellState, ...]
    corrupt: tuple[str, ...]
    overrides: Mapping[str, Any] = field(default_factory=dict)
    search: Any = None
    runs_root: Path | None = None
    evaluations: tuple[CellState, ...] = ()


def has_table(spec_path: Path) -> bool:
    """Whether a spec has a table: a ``table`` block or a ``search`` (``--all`` skips the rest)."""
    spec = load_spec(spec_path)
    return spec.table is not None or spec.search is not None


def load_sweep(spec_path: Path, profile: str | None, runs_root: Path) -> SweepInputs:
    """Load a spec and match the records under the runs root to its cells.

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
    if spec.search is not None:  # a study: its rows are the configs it trained
        from analysis.search import search_inputs

        return search_inputs(spec, spec_path, profile or spec.default_profile, runs_root)
    block = spec.table
    if block is None:
        raise TableSpecError(
            "no 'table' block; add one with title, label, rows, columns and metrics "
            "(docs/record.md)"
        )
    name = profile or spec.default_profile
    layout = TableLayout(spec.name, block, name)
    axis_values = spec.axis_values(name)
    if layout.kind == "counts":
        overrides = dict(spec.profile(name).overrides)
        cells = count_cells(spec.cells(name), overrides)
        return SweepInputs(spec_path, layout, axis_values, tuple(cells), (), overrides)
    states, corrupt = [], []
    with gc_paused():  # records by the ten thousand, no cycles: see gc_paused
        code = code_version()
        prof, _, resolved = resolve_cells(spec, name, code)
        folder = sweep_dir(runs_root, spec.name, prof.name)
        on_disk = scan_sweep(folder)
        journal = read_journal(folder)
        for rc in resolved:
            found = on_disk.get(label_slug(rc.cell.label), {})
            state = _state(
                rc, match_cell(rc, found, spec.name, prof.name), journal, code, runs_root
            )
            if state.status == "corrupt" and state.problem:
                corrupt.append(state.problem)
            states.append(state)
        slugs = {label_slug(rc.cell.label) for rc in resolved}
        evaluations = evaluation_cells(on_disk, slugs, spec.name, prof.name)
    return SweepInputs(
        spec_path, layout, axis_values, tuple(states), tuple(corrupt), evaluations=evaluations
    )


def _state(
    rc: ResolvedCell, m: Match, journal: JournalState, code: CodeVersion, runs_root: Path
) -> CellState:
    """A cell's state from its records: today's result, else an older one (marked), else what
    its current run is doing."""
    cell = rc.cell
    base: dict[str, Any] = {"label": cell.label, "coords": dict(cell.coords), "seed": cell.seed}
    current, older = m.current, m.older
    if m.problem is not None:
        return CellState(**base, status="corrupt", run_id=rc.run_id, problem=m.problem)
    if current is not None and current.status == "done":
        return CellState(**base, status="done", run_id=current.run_id, record=current)
    if older is not None and older.status == "done":
        why = describe(older, m.changed, rc.config, code, runs_root)
        if current is not None:
            why += f"; today's run {current.run_id} is {current.status}"
        return CellState(**base, status="done", run_id=rc.run_id, record=older, older=why)
    if current is not None:
        return CellState(**base, status=current.status, run_id=current.run_id, record=current)
    if journal.job_of(rc.run_id):
        return CellState(**base, status="queued", run_id=rc.run_id)
    if older is not None:
        return CellState(**base, status="stale", run_id=rc.run_id, record=older)
    return CellState(**base, status="new", run_id=rc.run_id)
