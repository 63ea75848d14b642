"""Adopt a SLURM submission whose job ids were never journaled (its launcher died submitting).

The SLURM executor submits each array held (``sbatch --hold``) and releases it only once
submitit has moved every task's pickle into place, so a launcher killed right after ``sbatch``
leaves tasks that have not run and could not: a task starts by loading its pickle. The next
launch finds the submission's tasks by job name (``lors-<token>``, squeue and sacct) and reads,
per task, the run ids its pickle holds:

- the pickle names a unit of the submission: the task is that unit's job, released if held;
- no pickle (the launcher died before submitit moved it) or one naming no unit: the task is
  cancelled, and its unit left without a job, so the same launch submits its runs again.

Tasks are matched to units by what their pickles hold, never by their position in a listing: a
partly finished array, or a submission of several arrays, lists tasks in no order of the units.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from submitit.helpers import DelayedSubmission

from harness.errors import ExecutorError
from harness.executors.slurm_cli import act, command, job_ids

logger = logging.getLogger(__name__)


@dataclass
class Adoption:
    """What recovery makes of a submission's tasks.

    Attributes:
        jobs: per unit (journaled order), its task, or None (none found, or cancelled).
        release: held tasks to release (their pickles are in place).
        cancel: tasks still queued that cannot run their unit (no pickle, or no such unit).
    """

    jobs: list[str | None]
    release: list[str] = field(default_factory=list)
    cancel: list[str] = field(default_factory=list)


def pickled_runs(folder: Path, job: str) -> tuple[str, ...] | None:
    """The run ids in the pickle submitit left for ``job`` under its folder (``<job>/<job>_
    submitted.pkl``), or None when there is none or it cannot be read."""
    path = folder / job / f"{job}_submitted.pkl"
    try:
        delayed = DelayedSubmission.load(path)
        return tuple(p.run_id for p in delayed.args[0])
    except FileNotFoundError:
        return None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, IndexError) as exc:
        logger.warning("%s: unreadable (%s); its job counts as having no pickle", path, exc)
        return None


def match(
    units: Sequence[Sequence[str]],
    tasks: Sequence[str],
    held: Mapping[str, bool],
    runs_of: Callable[[str], tuple[str, ...] | None],
) -> Adoption:
    """Match found tasks to units by the runs their pickles hold.

    Args:
        units: run ids per unit, as journaled.
        tasks: the submission's tasks, from squeue and sacct.
        held: the tasks still in the queue -> whether each is held.
        runs_of: a task's pickled run ids (None: no pickle).
    """
    index = {tuple(u): i for i, u in enumerate(units)}
    out = Adoption([None] * len(units))
    for task in tasks:
        runs = runs_of(task)
        unit = index.get(runs) if runs is not None else None
        if unit is None or out.jobs[unit] is not None:
            if task in held:  # it could only die at start (no pickle), or run a unit twice
                out.cancel.append(task)
            continue
        out.jobs[unit] = task
        if held.get(task):
            out.release.append(task)
    return out


def adopt(token: str, units: Sequence[Sequence[str]], folder: Path) -> list[str | None]:
    """Find, release or cancel the tasks of submission ``token`` (module docstring); returns
    the job per unit (None: its runs are free to be submitted again).

    Raises:
        ExecutorError: squeue did not answer (nothing can be told), or a release or cancel
            failed (the submission stays pending for the next launch).
    """
    name = f"lors-{token}"
    queue = command(["squeue", "-h", "-r", f"--name={name}", "-o", "%i|%T|%r"])
    if queue is None:
        raise ExecutorError(
            f"slurm: squeue failed, so which jobs submission {token} left is unknown; nothing "
            "was submitted; launch again when the controller answers"
        )
    held: dict[str, bool] = {}
    for line in queue.splitlines():
        job, state, reason = [*line.split("|"), "", ""][:3]
        for task in job_ids(job):
            held[task] = state == "PENDING" and reason.startswith("JobHeld")
    # without accounting sacct fails every time: expected, not worth a warning
    acct = command(
        ["sacct", "-n", "-X", "-P", f"--name={name}", "-S", "now-14days", "-o", "JobID"],
        warn=False,
    )
    tasks = job_ids(" ".join(held) + " " + (acct or ""))
    found = match(units, tasks, held, lambda task: pickled_runs(folder, task))
    act(["scancel"], found.cancel, f"jobs of submission {token} without their pickle remain")
    if found.cancel:
        logger.warning(
            "submission %s: cancelled %s: its launcher died before their pickles were in place "
            "(their runs are submitted again)",
            token,
            ",".join(found.cancel),
        )
    act(["scontrol", "release"], found.release, f"submission {token} stays held")
    if found.release:
        logger.warning("submission %s: released held %s", token, ",".join(found.release))
    return found.jobs
