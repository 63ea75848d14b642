"""Evaluations of a given checkpoint: rows of a run table that the sweep did not train.

``python -m harness.evaluate CONFIG CHECKPOINT --sweep S --label L`` (the authors' released
weights, converted) writes an ordinary record (docs/record.md) into the sweep's folder: cell
``{axis: L}``, no seed, its attempts under the executor ``evaluate``, the weights named in its
config block (``evaluated_checkpoint``: file name and SHA-256). It is no cell of the spec, so the
cells' matching never sees it; this module finds such records, and the table shows each label as
one row after the reproduced rows (:func:`analysis.table.build_table`): one run, no spread, no Δ,
not ranked for bold, its record and checkpoint in the provenance.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from analysis.layout import LABEL_AXIS, METRICS_AXIS, CellState, TableLayout
from harness.errors import RecordError
from harness.records.record import RunRecord, read_config, read_run_record
from harness.records.store import record_path

logger = logging.getLogger(__name__)

#: The executor of an evaluation's attempts: ``harness.evaluate.EXECUTOR`` (a test checks that
#: they agree; analysis cannot import that CLI, whose evaluation reaches torch).
EXECUTOR = "evaluate"
#: The config block's key that names the evaluated weights (``harness.evaluate``).
CHECKPOINT_KEY = "evaluated_checkpoint"


def is_evaluation(record: RunRecord) -> bool:
    """Whether a record is an evaluation of a given checkpoint (``harness.evaluate`` wrote it)."""
    return any(a.executor == EXECUTOR for a in record.attempts)


def evaluated_checkpoint(record: RunRecord) -> dict[str, str]:
    """The evaluated weights, ``{"file", "sha256"}`` from the record's config block (``?`` where
    the block does not say)."""
    config = read_config(record.path) if record.path is not None else None
    found = (config or {}).get(CHECKPOINT_KEY)
    found = found if isinstance(found, dict) else {}
    return {key: str(found.get(key) or "?") for key in ("file", "sha256")}


def evaluation_cells(
    on_disk: Mapping[str, Mapping[str, Path]], cell_slugs: Collection[str], sweep: str, profile: str
) -> tuple[CellState, ...]:
    """The evaluations under a sweep folder, one per label, sorted by label.

    Args:
        on_disk: label slug -> {run id -> run folder} (``harness.records.store.scan_sweep``).
        cell_slugs: the label slugs of the spec's cells (their folders are the cells' runs: not
            read again).
        sweep / profile: the records must name these.

    Returns:
        Per label, the newest done evaluation (else the newest one: a failed or running
        evaluation shows its state), with ``evaluated`` set to its checkpoint.
    """
    by_label: dict[str, list[RunRecord]] = {}
    for slug, folders in on_disk.items():
        if slug in cell_slugs:
            continue
        for run_dir in folders.values():
            try:
                record = read_run_record(record_path(run_dir))
            except RecordError as exc:
                logger.warning("%s (no cell of the spec; left out of the table)", exc)
                continue
            if record is None or (record.sweep, record.profile) != (sweep, profile):
                continue
            if is_evaluation(record):
                by_label.setdefault(record.label, []).append(record)
    cells = []
    for label in sorted(by_label):
        newest = max(by_label[label], key=lambda r: (r.status == "done", r.last_start))
        cells.append(
            CellState(
                label=label,
                coords=dict(newest.coords),
                seed=newest.seed,
                status=newest.status,
                run_id=newest.run_id,
                record=newest,
                evaluated=evaluated_checkpoint(newest),
            )
        )
    return tuple(cells)


def place(
    layout: TableLayout, evaluations: Sequence[CellState], rows: Sequence[str]
) -> list[tuple[str, str | None, CellState]]:
    """Where each evaluation goes: ``(row, column-axis value or None, cell)``, in order.

    Its row is its label; with the columns an axis, its column is its value of that axis. An
    evaluation whose label is already a row of the sweep, or that has no value of the column axis,
    is left out with a warning (it would merge with, or sit beside, runs it is not one of).
    """
    out: list[tuple[str, str | None, CellState]] = []
    taken = set(rows)
    for cell in evaluations:
        row = cell.row_title if layout.rows == LABEL_AXIS else cell.label
        group = None if layout.columns == METRICS_AXIS else cell.coords.get(layout.columns)
        if row in taken:
            why = f"its label {row!r} is a row of the sweep; evaluate it again with another --label"
        elif layout.columns != METRICS_AXIS and group is None:
            why = f"the columns are the axis {layout.columns!r}, of which it has no value"
        else:
            taken.add(row)
            out.append((row, group, cell))
            continue
        logger.warning(
            "%s: evaluation %s (run %s) left out of the table: %s",
            layout.sweep,
            cell.label,
            cell.run_id,
            why,
        )
    return out
