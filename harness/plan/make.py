"""``make_plan``: the cells of a sweep with run ids and statuses, computed without side effects.

Status of a cell, from its record (same run id), the submission journal and, when the caller
passes it, which jobs are still alive:

- ``done`` / ``failed``: the record says so;
- ``running``: the record says running and its job is alive (or liveness is unknown);
- ``queued``: submitted (journal) or recorded as queued, and the job is alive (or unknown);
- ``failed`` too when the record or journal names a job that is gone without finishing;
- ``stale``: no record for this run id, but one under the same label (config or code changed);
- ``new``: nothing known.

No torch, mmcv or mmdet import and no writes: a dry run of any sweep is instant.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.errors import RecordError
from harness.identity import CodeVersion, ConfigHasher, code_version, data_manifest, run_id
from harness.journal import JournalState, read_journal
from harness.layout import sweep_dir
from harness.records.schema import PLAN_STATUSES
from harness.records.store import read_record, record_path, scan_sweep
from harness.spec.config import apply_overrides, load_config
from harness.spec.expand import label_slug
from harness.spec.model import Cell, Profile, SweepSpec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedCell:
    """One cell of a plan.

    Args:
        cell: the spec's cell.
        run_id: the run id of the cell's resolved config, data and code.
        status: one of new, queued, running, done, failed, stale.
        run_dir: the run folder of this run id (it may not exist yet).
        record_path: the record of this run id when it exists; for ``stale``, the newest record
            under the same label; else None.
        job: ``executor:job_id`` of the run's latest job, when one is known.
        note: why the status is what it is, when that is not obvious (a vanished job).
        data_manifest: the data manifest the run id includes.
        record: the record read from ``record_path`` without its ``config`` block (read the
            file for that); None when there is none.
        config: the cell's resolved config (plain dict; shares containers with other cells).
        overrides: the profile's and the cell's overrides, as the job applies them.
    """

    cell: Cell
    run_id: str
    status: str
    run_dir: Path
    record_path: Path | None
    job: str | None = None
    note: str = ""
    data_manifest: str = ""
    record: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)
    config: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    overrides: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


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


_CONFIGS: dict[tuple[Path, int, str], dict[str, Any]] = {}


def profile_config(profile: Profile) -> dict[str, Any]:
    """The profile's resolved config (its base with its overrides), loaded once per process."""
    if profile.base is None:
        return {}
    key = (profile.base, profile.base.stat().st_mtime_ns, repr(sorted(profile.overrides.items())))
    if key not in _CONFIGS:
        _CONFIGS[key] = apply_overrides(load_config(profile.base), profile.overrides)
    return _CONFIGS[key]


def _touches_data(overrides: Mapping[str, Any]) -> bool:
    return any("dataloader" in k or "data_root" in k for k in overrides)


def run_status(
    rid: str,
    record: Mapping[str, Any] | None,
    journal: JournalState,
    alive: Mapping[str, bool] | None,
) -> tuple[str, str | None, str]:
    """``(status, job, note)`` of a run with a record or journal entry, else ``("", None, "")``."""
    attempts = (record or {}).get("attempts") or []
    attempt_jobs = [f"{a.get('executor')}:{a.get('job_id')}" for a in attempts]
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
    status = str(record.get("status", ""))
    if attempt_jobs:
        job = attempt_jobs[-1]
    if status in ("running", "queued"):
        if alive is not None and job is not None and not alive.get(job, False):
            return "failed", job, f"job {job} ended while the run was {status}"
        return status, job, ""
    return (status if status in ("done", "failed") else "failed"), job, ""


Liveness = Mapping[str, bool] | Callable[[set[str]], Mapping[str, bool]]


def _read(path: Path, corrupt: dict[Path, str]) -> dict[str, Any] | None:
    """A record without its ``config`` block, or None (noted in ``corrupt``) when the file is not
    a readable record.

    The resolved config is most of a record's objects and no status needs it; ten thousand of
    them kept alive make every full garbage collection of the process crawl over them.
    """
    try:
        record = read_record(path)
    except RecordError as exc:
        logger.warning("%s", exc)
        corrupt[path] = str(exc)
        return None
    if record is not None:
        record.pop("config", None)
    return record


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector for a block that builds many lasting objects, few cycles.

    A plan of ten thousand cells holds a few hundred thousand containers (records, configs,
    paths); every full collection while they pile up walks all of them again, a large part of
    the planning time. Reference counting still frees what is dropped; cycles wait for the
    collector, which resumes after the block (nested blocks: after the outermost).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _candidate_jobs(record: Mapping[str, Any] | None, journal_job: str | None) -> set[str]:
    jobs = {journal_job} if journal_job else set()
    attempts = (record or {}).get("attempts") or []
    if attempts and (record or {}).get("status") in ("running", "queued"):
        jobs.add(f"{attempts[-1].get('executor')}:{attempts[-1].get('job_id')}")
    return jobs


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
        prof = spec.profile(profile)
        base = profile_config(prof)
        hasher = ConfigHasher()
        code = code or code_version()
        manifest = data_manifest(base)
        folder = sweep_dir(runs_root, spec.name, prof.name)
        on_disk = scan_sweep(folder)
        journal = read_journal(folder)
        found = []
        corrupt: dict[Path, str] = {}
        for cell in spec.cells(prof.name):
            own = cell.base is not None  # a case that starts from its own config here
            start = profile_config(replace(prof, base=cell.base)) if own else base
            cfg = apply_overrides(start, cell.overrides)
            touched = own or _touches_data(cell.overrides)
            cell_manifest = data_manifest(cfg) if touched else manifest
            rid = run_id(hasher.digest(cfg), cell_manifest, code.source_hash)
            slug = label_slug(cell.label)
            same_label = on_disk.get(slug, {})
            run_dir = same_label.get(rid) or folder / f"{slug}-{rid}"
            rec_path = record_path(run_dir) if rid in same_label else None
            record = _read(rec_path, corrupt) if rec_path is not None else None
            found.append((cell, cfg, cell_manifest, rid, run_dir, same_label, rec_path, record))
        if callable(alive):
            wanted: set[str] = set()
            for _, _, _, rid, _, _, _, record in found:
                journal_job = journal.job_of(rid)
                wanted |= _candidate_jobs(record, ":".join(journal_job) if journal_job else None)
            alive = alive(wanted) if wanted else {}
        planned = []
        for cell, cfg, cell_manifest, rid, run_dir, same_label, rec_path, record in found:
            status, job, note = run_status(rid, record, journal, alive)
            if rec_path in corrupt:  # unreadable: failed, and the path says which file to look at
                status, note = "failed", corrupt[rec_path]
            if not status:
                status, rec_path, record = "new", None, None
                older = [record_path(d) for r, d in same_label.items() if r != rid]
                older = [p for p in older if p.is_file()]
                if older:
                    rec_path = max(older, key=lambda p: p.stat().st_mtime)
                    status, record = "stale", _read(rec_path, corrupt)
            planned.append(
                PlannedCell(
                    cell=cell,
                    run_id=rid,
                    status=status,
                    run_dir=run_dir,
                    record_path=rec_path,
                    job=job,
                    note=note,
                    data_manifest=cell_manifest,
                    record=record,
                    config=cfg,
                    overrides={**prof.overrides, **cell.overrides},
                )
            )
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
        return Plan(spec, prof, runs_root, folder, tuple(planned), code, manifest)
