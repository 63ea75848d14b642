"""Which records belong to a cell, and whether each still answers for today's spec and code.

A cell's records are the run folders under its label in the sweep folder whose record names the
same sweep, profile, coords and seed. One of them is *current* when its identity equals the
cell's today: same config digest, same code hash, and the same data manifest where the dataset is
here to be fingerprinted (without it, config and code decide). Any other is *older*: still a
result, shown with what changed (config, data or code), never silently replaced.

The plan, ``harness.status`` and the analysis all match records here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.errors import RecordError
from harness.identity.cells import ResolvedCell
from harness.records.record import RunRecord, config_digest, read_run_record
from harness.records.store import record_path, scan_sweep

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Match:
    """A cell's records.

    Attributes:
        current: the record of the run whose identity is the cell's today, or None.
        older: the newest other record of the cell (a done one before any other), or None.
        changed: what differs between ``older`` and today: ``config``, ``data`` and/or ``code``.
        problem: why the current run's record could not be read (its path and error), or None.
        problem_path: that record's file.
    """

    current: RunRecord | None = None
    older: RunRecord | None = None
    changed: tuple[str, ...] = ()
    problem: str | None = None
    problem_path: Path | None = None


def changes(record: RunRecord, cell: ResolvedCell) -> tuple[str, ...]:
    """The parts of a record's identity that differ from the cell's today (empty: current)."""
    today = cell.identity
    if record.run_id == today.run_id:
        return ()
    out = []
    if config_digest(record) != today.config:
        out.append("config")
    if cell.data.known and record.identity.data != today.data:
        out.append("data")
    if record.identity.code != today.code:
        out.append("code")
    return tuple(out)


def _belongs(record: RunRecord, cell: ResolvedCell, sweep: str, profile: str) -> bool:
    c = cell.cell
    return (
        record.sweep == sweep
        and record.profile == profile
        and record.label == c.label
        and dict(record.coords) == dict(c.coords)
        and record.seed == c.seed
    )


def match_cell(cell: ResolvedCell, folders: Mapping[str, Path], sweep: str, profile: str) -> Match:
    """Match a cell against the run folders under its label (run id -> folder).

    Args:
        cell: the resolved cell.
        folders: the run folders of the cell's label slug (``scan_sweep``).
        sweep: the sweep's name; ``profile``: the profile's.
    """
    rid = cell.run_id
    current, problem, problem_path = None, None, None
    others: list[tuple[RunRecord, tuple[str, ...]]] = []
    # today's run id first: the common case needs no other read
    for folder_id in sorted(folders, key=lambda r: r != rid):
        path = record_path(folders[folder_id])
        try:
            record = read_run_record(path)
        except RecordError as exc:
            if folder_id == rid:
                problem, problem_path = str(exc), path
            else:
                logger.warning("%s (an older run of %s; left out)", exc, cell.cell.label)
            continue
        if record is None or not _belongs(record, cell, sweep, profile):
            continue
        changed = changes(record, cell)
        if not changed and current is None:
            current = record
        elif changed:
            others.append((record, changed))
    if not others:
        return Match(current, None, (), problem, problem_path)
    # a done result before a started or failed one, then the newest attempt
    others.sort(key=lambda rc: (rc[0].status == "done", rc[0].last_start), reverse=True)
    older, changed = others[0]
    return Match(current, older, changed, problem, problem_path)


def sweep_records(folder: Path, sweep: str, profile: str) -> tuple[list[RunRecord], list[str]]:
    """Every readable record under a sweep folder that names this sweep and profile (a search
    has no grid to match them to), and one line per record that could not be read."""
    records, corrupt = [], []
    for folders in scan_sweep(folder).values():
        for run_dir in folders.values():
            try:
                record = read_run_record(record_path(run_dir))
            except RecordError as exc:
                corrupt.append(str(exc))
                continue
            if record is not None and (record.sweep, record.profile) == (sweep, profile):
                records.append(record)
    return records, corrupt
