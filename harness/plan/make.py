"""``make_plan``: the cells of a sweep with run ids and statuses, computed without side effects.

Each cell's identity comes from ``harness.identity`` and its records from
``harness.records.match``; its status from the current record, the submission journal and, when
the caller passes it, which jobs are still alive:

- ``done`` / ``failed`` / ``pruned``: the current record says so (``pruned``: a search's pruner
  stopped the run; a later trial of the same config may continue it);
- ``running``: the current record says running and its job is alive (or liveness is unknown);
- ``queued``: submitted (journal) or recorded as queued, and the job is alive (or unknown);
- ``failed`` too when the record or journal names a job that is gone without finishing;
- ``stale``: no current record, but an older one under the same label (it says what changed);
- ``new``: nothing known.

No torch, mmcv or mmdet import and no writes: a dry run of any sweep is instant.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.errors import RecordError
from harness.gcpause import gc_paused
from harness.identity import CodeVersion, ResolvedCell, code_version, resolve_cells
from harness.journal import JournalState, read_journal
from harness.layout import run_folder_name, sweep_dir
from harness.records.match import Match, match_cell
from harness.records.record import RunRecord, read_run_record
from harness.records.schema import PLAN_STATUSES, REQUEUE_EXITS, VANISHED_EXITS
from harness.records.store import scan_sweep
from harness.spec.expand import label_slug
from harness.spec.model import Cell, Profile, SweepSpec

logger = logging.getLogger(__name__)
# a failed run's last exit when its job ended without an error of the run's own
ENDED_WITHOUT_ERROR = (*VANISHED_EXITS, *REQUEUE_EXITS)


@dataclass(frozen=True)
class PlannedCell:
    """One cell of a plan.

    Args:
        cell: the spec's cell.
        run_id: the run id of the cell's resolved config, data and code.
        status: one of new, queued, running, done, failed, stale, pruned.
        run_dir: the run folder of this run id (it may not exist yet).
        record_path: the record of this run when it exists; for ``stale``, the older record
            shown in its place; else None.
        job: ``executor:job_id`` of the run's latest job, when one is known.
        note: why the status is what it is, when that is not obvious (a vanished job).
        data_manifest: the data manifest the run id includes.
        record: the record read from ``record_path`` (without its ``config`` block); None when
            there is none.
        config: the cell's resolved config (plain dict; shares containers with other cells).
        overrides: the profile's and the cell's overrides, as the job applies them.
        changed: for ``stale``, what differs from the older record: config, data and/or code.
        config_digest: the config part of the run id.
    """

    cell: Cell
    run_id: str
    status: str
    run_dir: Path
    record_path: Path | None
    job: str | None = None
    note: str = ""
    data_manifest: str = ""
    record: RunRecord | None = field(default=None, repr=False, compare=False)
    config: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    overrides: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    changed: tuple[str, ...] = ()
    config_digest: str = ""

    @property
    def vanished(self) -> bool:
        """Failed because its job ended without finishing it (killed, cancelled, lost), not by
        an error of the run's own: resubmitting it resumes from its last checkpoint."""
        if self.status != "failed":
            return False
        if self.record is None:  # the journal's job died before a record existed
            return self.job is not None and self.note.startswith(f"job {self.job} ended")
        last = self.record.attempts[-1] if self.record.attempts else None
        return last is not None and (last.exit is None or last.exit in ENDED_WITHOUT_ERROR)


@dataclass(frozen=True)
class Plan:
    """A sweep's plan in one profile.

    Args:
        spec: the sweep spec.
        profile: the profile planned.
        runs_root: the runs root.
        sweep_dir: ``<runs root>/<sweep>/<profile>``.
        cells: the planned cells, in spec order.
        code: the code version the run ids include.
        data_manifest: the profile's data manifest.
    """

    spec: SweepSpec
    profile: Profile
    runs_root: Path
    sweep_dir: Path
    cells: tuple[PlannedCell, ...]
    code: CodeVersion
    data_manifest: str

    def counts(self) -> dict[str, int]:
        """Status -> number of cells (every status present, zeros included)."""
        out = dict.fromkeys(PLAN_STATUSES, 0)
        for c in self.cells:
            out[c.status] += 1
        return out

    def select(self, statuses: tuple[str, ...]) -> list[PlannedCell]:
        """The cells with one of these statuses, in spec order."""
        return [c for c in self.cells if c.status in statuses]


def run_status(
    rid: str,
    record: RunRecord | None,
    journal: JournalState,
    alive: Mapping[str, bool] | None,
) -> tuple[str, str | None, str]:
    """``(status, job, note)`` of a run with a record or journal entry, else ``("", None, "")``."""
    attempt_jobs = list(record.jobs) if record is not None else []
    submitted = journal.job_of(rid)
    job = f"{submitted[0]}:{submitted[1]}" if submitted else None
    if job is not None and job not in attempt_jobs:
        # Submitted after the record's last attempt began (or before any record existed).
        if alive is None or alive.get(job, False):
            return "queued", job, ""
        if record is None:
            return "failed", job, f"job {job} ended before the run started"
    if record is None:
        return "", None, ""
    status = record.status
    if attempt_jobs:
        job = attempt_jobs[-1]
    if status in ("running", "queued"):
        if alive is not None and job is not None and not alive.get(job, False):
            return "failed", job, f"job {job} ended while the run was {status}"
        return status, job, ""
    return (status if status in ("done", "failed", "pruned") else "failed"), job, ""


Liveness = Mapping[str, bool] | Callable[[set[str]], Mapping[str, bool]]


def _candidate_jobs(record: RunRecord | None, journal_job: str | None) -> set[str]:
    jobs = {journal_job} if journal_job else set()
    if record is not None and record.attempts and record.status in ("running", "queued"):
        jobs.add(record.attempts[-1].job)
    return jobs


def _liveness(
    alive: Liveness | None, pairs: Sequence[tuple[ResolvedCell, Match]], journal: JournalState
) -> Mapping[str, bool] | None:
    """Ask the executors once, for every job the plan could need an answer on."""
    if not callable(alive):
        return alive
    wanted: set[str] = set()
    for rc, m in pairs:
        found = journal.job_of(rc.run_id)
        wanted |= _candidate_jobs(m.current, ":".join(found) if found else None)
    return alive(wanted) if wanted else {}


def _reread_if_ended(m: Match, alive: Mapping[str, bool]) -> Match:
    """A record read as running or queued whose job is now said to have ended, read again.

    The record was read before the executor was asked; a job that wrote its final record and
    exited in between would otherwise look vanished, and be resubmitted for nothing.
    """
    record = m.current
    if record is None or record.path is None or record.status not in ("running", "queued"):
        return m
    if all(alive.get(j, True) for j in _candidate_jobs(record, None)):
        return m
    try:
        fresh = read_run_record(record.path)
    except RecordError:
        return m
    return m if fresh is None else replace(m, current=fresh)


def _planned(
    rc: ResolvedCell,
    m: Match,
    folder: Path,
    journal: JournalState,
    alive: Mapping[str, bool] | None,
) -> PlannedCell:
    record = m.current
    rid = record.run_id if record is not None else rc.run_id
    status, job, note = run_status(rid, record, journal, alive)
    run_dir = record.path.parent if record is not None and record.path else None
    path = record.path if record is not None else None
    changed: tuple[str, ...] = ()
    if m.problem is not None:  # unreadable: failed, and the path says which file to look at
        status, note, path, record = "failed", m.problem, m.problem_path, None
    elif not status and m.older is not None:
        status, record, path, changed = "stale", m.older, m.older.path, m.changed
    elif not status:
        status = "new"
    return PlannedCell(
        cell=rc.cell,
        run_id=rid,
        status=status,
        run_dir=run_dir or folder / run_folder_name(rc.cell.label, rid),
        record_path=path,
        job=job,
        note=note,
        data_manifest=rc.identity.data,
        record=record,
        config=rc.config,
        overrides=rc.overrides,
        changed=changed,
        config_digest=rc.identity.config,
    )


def _warn_same_config(planned: Sequence[PlannedCell]) -> None:
    seen: dict[str, str] = {}
    for pc in planned:
        if pc.run_id in seen:
            logger.warning(
                "%s and %s resolve to the same config (run id %s): they train the same thing",
                seen[pc.run_id],
                pc.cell.label,
                pc.run_id,
            )
        seen.setdefault(pc.run_id, pc.cell.label)


def make_plan(
    spec: SweepSpec,
    profile: str | None = None,
    runs_root: Path = Path("runs"),
    alive: Liveness | None = None,
    code: CodeVersion | None = None,
) -> Plan:
    """Plan a sweep in one profile.

    Args:
        spec: the sweep spec.
        profile: the profile (default: the spec's default profile).
        runs_root: the runs root.
        alive: whether jobs are still queued or running: a mapping ``executor:job_id`` -> bool,
            or a function that answers for a set of such keys (called once, e.g.
            ``harness.executors.job_alive``); None when unknown (then a record or journal entry
            is trusted as it is).
        code: the code version (default: this checkout's).

    Returns:
        The plan; nothing is written.
    """
    with gc_paused():
        code = code or code_version()
        prof, manifest, resolved = resolve_cells(spec, profile, code)
        folder = sweep_dir(runs_root, spec.name, prof.name)
        on_disk = scan_sweep(folder, {label_slug(rc.cell.label) for rc in resolved})
        journal = read_journal(folder)
        pairs = [
            (rc, match_cell(rc, on_disk.get(label_slug(rc.cell.label), {}), spec.name, prof.name))
            for rc in resolved
        ]
        live = _liveness(alive, pairs, journal)
        if live is not None:
            pairs = [(rc, _reread_if_ended(m, live)) for rc, m in pairs]
        planned = [_planned(rc, m, folder, journal, live) for rc, m in pairs]
        _warn_same_config(planned)
        return Plan(spec, prof, runs_root, folder, tuple(planned), code, manifest.digest)
