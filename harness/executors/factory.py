"""Build an executor by name, pick the default one, and ask any executor about its jobs."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from harness.errors import ExecutorError
from harness.executors.base import Executor, JobState
from harness.executors.debug import DebugExecutor
from harness.executors.local import LocalExecutor
from harness.executors.slurm import SlurmExecutor
from harness.executors.slurm_profile import load_slurm_profile

EXECUTORS: dict[str, type[Executor]] = {
    "debug": DebugExecutor,
    "local": LocalExecutor,
    "slurm": SlurmExecutor,
}


def default_executor() -> str:
    """``slurm`` when ``sbatch`` is on PATH, else ``local``."""
    return "slurm" if shutil.which("sbatch") else "local"


def make_executor(
    name: str,
    folder: Path,
    parallel: int | None = None,
    array_parallelism: int = 64,
    slurm_profile: str | None = None,
    profiles_dir: Path | Sequence[Path] = Path("slurm/profiles"),
) -> Executor:
    """An executor by name.

    Raises:
        ExecutorError: unknown name (lists the valid ones).
        ProfileError: a bad SLURM profile.
    """
    if name == "debug":
        return DebugExecutor(folder)
    if name == "local":
        return LocalExecutor(folder, parallel=parallel)
    if name == "slurm":
        profile = load_slurm_profile(slurm_profile, profiles_dir)
        return SlurmExecutor(folder, profile, array_parallelism=array_parallelism)
    raise ExecutorError(f"--executor {name!r} is not an executor; valid: {sorted(EXECUTORS)}")


def _by_executor(jobs: Iterable[str]) -> dict[str, list[str]]:
    """``executor:job_id`` keys grouped by executor, so each executor is asked once."""
    grouped: dict[str, list[str]] = {}
    for key in jobs:
        executor, _, job_id = key.partition(":")
        grouped.setdefault(executor, []).append(job_id)
    return grouped


def job_alive(jobs: Iterable[str]) -> dict[str, bool]:
    """``executor:job_id`` -> whether the job is still queued or running."""
    out: dict[str, bool] = {}
    for executor, ids in _by_executor(jobs).items():
        cls = EXECUTORS.get(executor)
        answers = cls.alive(ids) if cls is not None else dict.fromkeys(ids, False)
        out.update({f"{executor}:{j}": alive for j, alive in answers.items()})
    return out


def job_states(jobs: Iterable[str]) -> dict[str, JobState]:
    """``executor:job_id`` -> where the job stands (:class:`JobState`), asked of each executor
    once; an unknown executor's jobs are ``unknown``."""
    out: dict[str, JobState] = {}
    for executor, ids in _by_executor(jobs).items():
        cls = EXECUTORS.get(executor)
        answers = cls.states(ids) if cls is not None else dict.fromkeys(ids, JobState("unknown"))
        out.update({f"{executor}:{j}": state for j, state in answers.items()})
    return out


def cancel_jobs(jobs: Iterable[str]) -> None:
    """End ``executor:job_id`` jobs now, each executor asked once."""
    for executor, ids in _by_executor(jobs).items():
        cls = EXECUTORS.get(executor)
        if cls is not None:
            cls.cancel(ids)
