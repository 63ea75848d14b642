"""Carry a plan out: recover lost submissions, close ended runs, submit what is missing.

Everything that writes happens under the sweep folder's lock, in this order: recover pending
journal entries (``Executor.adopt`` by token), close the attempts whose job ended without
closing them (cancelled, killed, requeued: ``harness.executors.ended``), replan with live job
states, journal the submission, submit, journal the job ids. A launcher killed anywhere in
between leaves a journal from which the next launch knows what was submitted, so no cell is
submitted twice.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import journal
from harness.executors import EXECUTORS, Executor, job_alive
from harness.executors.ended import Settled, settle
from harness.identity import save_code_files
from harness.job.payload import JobPayload
from harness.layout import submitit_dir, sweep_dir
from harness.plan import Plan, PlannedCell, make_plan
from harness.spec.model import SweepSpec

logger = logging.getLogger(__name__)
# Crash-safety tests: exit abruptly after the write-ahead entry ("after-journal") or after the
# executor accepted the jobs but before their ids are journaled ("after-submit").
FAULT_ENV = "LORS_FAULT"


def _fault(point: str) -> None:
    if os.environ.get(FAULT_ENV) == point:
        logger.warning("%s=%s: exiting here on purpose", FAULT_ENV, point)
        os._exit(137)


def live_plan(spec: SweepSpec, profile: str | None, runs_root: Path) -> Plan:
    """The plan with job liveness asked of the executors (squeue, process table)."""
    return make_plan(spec, profile, runs_root, alive=job_alive)


def missing_data(cells: Sequence[PlannedCell]) -> list[str]:
    """What is missing of the datasets these cells read (paths and their config keys), checked
    before anything is submitted: a run that cannot find its data should never be queued."""
    from lors.data.check import find_missing_data  # pure: no torch

    problems: list[str] = []
    seen: set[str] = set()
    for pc in cells:
        if pc.data_manifest in seen:  # same data files as a cell already checked
            continue
        seen.add(pc.data_manifest)
        problems += [p for p in find_missing_data(pc.config) if p not in problems]
    return problems


def make_synthetic_data(
    cells: Sequence[PlannedCell], project: Path, write: bool = True
) -> list[str]:
    """Write the project's synthetic set for cells whose config asks for it (``synthetic_data``)
    and whose folder is missing; one line per set written (``write=False``: per set that would
    be). Other datasets are never made.

    Raises:
        lors.errors.ConfigError: a requested folder lies outside ``project`` or holds a set made
            with other settings.
    """
    from lors.data.ondemand import ensure, requested  # pure: no torch

    made: list[str] = []
    seen: set[Path] = set()
    for pc in cells:
        request = requested(pc.config, cwd=Path())  # relative paths stay relative: shown as given
        if request is None or request.root in seen:
            continue
        seen.add(request.root)
        line = ensure(request, project, write)
        if line:
            made.append(line)
    return made


def recover(sweep: Path) -> int:
    """Resolve pending journal entries (job ids never written); returns how many there were.

    Each executor adopts what its dead launcher left (``Executor.adopt``): the jobs that can run
    their units are journaled as ``recovered``; units without one (``""``) are free, and the
    launch that recovers them submits them again.
    """
    pending = journal.read_journal(sweep).pending()
    for sub in pending:
        cls = EXECUTORS.get(sub.executor)
        found = cls.adopt(sub.token, sub.units, submitit_dir(sweep)) if cls is not None else []
        if any(found):
            jobs = [j or "" for j in found]
            journal.append(sweep, "recovered", sub.token, jobs=jobs)
            logger.warning("recovered submission %s: jobs %s", sub.token, jobs)
        else:
            journal.append(sweep, "abandoned", sub.token)
            logger.warning(
                "submission %s never reached %s; its cells are free", sub.token, sub.executor
            )
    return len(pending)


def settle_cells(cells: Sequence[PlannedCell]) -> list[Settled]:
    """Close the records of these cells whose job ended without closing them (each change is
    logged: the run, its job, how it ended and how the harness knows)."""
    paths = [pc.record_path or pc.run_dir / "record.json" for pc in cells]
    settled = settle(p for p in paths if p.is_file())
    for s in settled:
        logger.warning("%s", s)
    return settled


def _resolved(path: Path) -> str:
    """An absolute path without links (a search resolves the same two paths for every trial)."""
    return _resolved_in(path, os.getcwd())


@functools.lru_cache(maxsize=256)
def _resolved_in(path: Path, cwd: str) -> str:
    return str(path.resolve())


def _under(path: Path, root: Path) -> str:
    """``path`` resolved, through its root's cached resolution when it lies under it."""
    try:
        return str(Path(_resolved(root)) / path.relative_to(root))
    except ValueError:
        return str(path.resolve())


def payload(
    plan: Plan,
    pc: PlannedCell,
    executor: str,
    wandb_mode: str,
    search: Mapping[str, Any] | None = None,
) -> JobPayload:
    """The job payload of a planned cell (``search``: the trial that asked for it)."""
    base = pc.cell.base or plan.profile.base
    assert base is not None  # a counts sweep is refused before planning
    return JobPayload(
        sweep=plan.spec.name,
        profile=plan.profile.name,
        label=pc.cell.label,
        coords=dict(pc.cell.coords),
        seed=pc.cell.seed,
        run_id=pc.run_id,
        run_dir=_under(pc.run_dir, plan.runs_root),
        runs_root=_resolved(plan.runs_root),
        base=_resolved(base),
        overrides=dict(pc.overrides),
        resources=pc.cell.resources,
        data_manifest=pc.data_manifest,
        config_digest=pc.config_digest,
        code_hash=plan.code.source_hash,
        search=search,
        executor=executor,
        wandb_mode=wandb_mode,
        cwd=str(Path.cwd()),
    )


@dataclass(frozen=True)
class Submitted:
    """What one launch submitted."""

    plan: Plan
    cells: tuple[PlannedCell, ...]
    jobs: tuple[str, ...]
    token: str | None


def submit(
    spec: SweepSpec,
    profile: str | None,
    runs_root: Path,
    executor: Executor,
    statuses: Sequence[str] = ("new",),
    limit: int | None = None,
    wandb_mode: str = "offline",
    search: Callable[[PlannedCell], Mapping[str, Any] | None] | None = None,
    choose: Callable[[PlannedCell], bool] | None = None,
) -> Submitted:
    """Submit the cells with one of ``statuses`` (at most ``limit``), under the sweep lock.

    ``search`` names, per cell, the study and trial that asked for it (kept in its record and
    its W&B tags). ``choose`` picks further cells of the plan made under the lock (a search
    resubmits a vanished run or continues a pruned one).

    Returns:
        The plan the choice was made from, the cells submitted and the ``executor:job`` keys.
    """
    folder = sweep_dir(runs_root, spec.name, spec.profile(profile).name)
    with journal.sweep_lock(folder):
        if journal.read_journal(folder).pending():
            executor.preflight()  # recovery asks the executor which earlier jobs it took
        recover(folder)
        plan = live_plan(spec, profile, runs_root)
        if settle_cells(plan.cells):
            plan = live_plan(spec, profile, runs_root)
        wanted = [c for c in plan.cells if c.status in statuses or (choose and choose(c))]
        chosen = wanted[: limit if limit is not None else None]
        if not chosen:
            return Submitted(plan, (), (), None)
        executor.preflight()
        trial = search or (lambda pc: None)
        payloads = [payload(plan, pc, executor.name, wandb_mode, trial(pc)) for pc in chosen]
        units = executor.units(payloads)
        executor.admit(units)
        save_code_files(runs_root, plan.code)  # lets harness.status name changed files later
        token = journal.new_token()
        journal.record_submitting(
            folder, token, executor.name, [u.run_ids for u in units],
            sync=executor.jobs_outlive_launcher,
        )  # fmt: skip
        _fault("after-journal")
        job_ids = executor.submit(units, token)
        _fault("after-submit")
        journal.append(folder, "submitted", token, jobs=job_ids)
    jobs = tuple(f"{executor.name}:{j}" for j in job_ids)
    logger.info("submitted %d runs as %d jobs (token %s)", len(chosen), len(job_ids), token)
    return Submitted(plan, tuple(chosen), jobs, token)
