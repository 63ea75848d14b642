"""The executor contract: turn units of runs into jobs, say which jobs live, adopt lost ones.

A **unit** is what one job runs: one run on SLURM (an array task), several runs one after
another in a local lane. Every executor runs :class:`CellJob`: local lanes and SLURM arrays
through submitit, the debug executor by calling it in the launcher.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from harness.job.payload import JobPayload
from harness.spec.model import Resources


@dataclass(frozen=True)
class JobState:
    """Where a job stands, as its executor tells it.

    Attributes:
        phase: ``running`` (its processes may live: running, or SLURM's kill grace while it
            completes), ``pending`` (waiting to start: queued, or requeued by SLURM), ``ended``
            (gone from the queue), ``ending`` (gone, but its accounting has not recorded how it
            ended yet) or ``unknown`` (the executor could not be asked).
        state: how an ended job ended in the scheduler's words (sacct ``CANCELLED by 0``,
            ``FAILED``, ``TIMEOUT``), or None where the executor keeps no accounting.
        end: when an ended job's last process stopped (ISO-8601 UTC), or None.
        exit_code: the scheduler's ``exit:signal`` of that last process, or None.
    """

    phase: str
    state: str | None = None
    end: str | None = None
    exit_code: str | None = None


@dataclass(frozen=True)
class Unit:
    """The runs one job executes, in order, and what the job asks for."""

    payloads: tuple[JobPayload, ...]
    resources: Resources

    @property
    def run_ids(self) -> list[str]:
        """The run ids of the unit, in order."""
        return [p.run_id for p in self.payloads]


class Executor(ABC):
    """Submits units through submitit.

    Args:
        folder: submitit's folder (pickles, job stdout/stderr).
    """

    name: ClassVar[str]
    # Whether a job can outlive the launcher that submitted it; where it cannot (it runs in the
    # launcher's process), the write-ahead entry before its submit needs no fsync: a crash that
    # loses the entry ends the job with it, and the job's record alone says what it did.
    jobs_outlive_launcher: ClassVar[bool] = True

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def units(self, payloads: Sequence[JobPayload]) -> list[Unit]:
        """How runs become jobs: by default one job per run."""
        return [Unit((p,), p.resources) for p in payloads]

    @abstractmethod
    def submit(self, units: Sequence[Unit], token: str) -> list[str]:
        """Submit the units under a submission token; returns one job id per unit."""

    @classmethod
    @abstractmethod
    def alive(cls, job_ids: Collection[str]) -> dict[str, bool]:
        """Whether each job is still queued or running (callable from any process)."""

    @classmethod
    def states(cls, job_ids: Collection[str]) -> dict[str, JobState]:
        """Each job's :class:`JobState`; by default from :meth:`alive` alone (running or ended,
        with no account of how)."""
        unknown = JobState("running")
        return {j: unknown if up else JobState("ended") for j, up in cls.alive(job_ids).items()}

    @classmethod
    @abstractmethod
    def adopt(cls, token: str, units: Sequence[Sequence[str]], folder: Path) -> list[str | None]:
        """The job of each unit of a submission whose job ids were never journaled (its
        launcher died submitting), matched to its unit by what identifies the unit, never by
        position; a job that can run is made to run, one that cannot is ended.

        Args:
            token: the submission's token.
            units: run ids per unit, as journaled.
            folder: submitit's folder, where the submission's pickles are.

        Returns:
            One entry per unit: its job id, or None (no job: its runs are free).
        """

    @classmethod
    def cancel(cls, job_ids: Collection[str]) -> None:
        """End these jobs now (a stalled job: its processes live but do nothing); a no-op for
        executors whose jobs end with the launcher."""
        return None

    def preflight(self) -> None:  # noqa: B027 (optional)
        """Raise ExecutorError when nothing could be submitted now (a cluster that is down), so
        that a launch stops before it journals or recovers anything; a no-op by default."""

    def admit(self, units: Sequence[Unit]) -> None:  # noqa: B027 (optional)
        """Raise ExecutorError when the scheduler would refuse some of ``units`` (a limit of
        the cluster's), before anything is journaled or submitted; a no-op by default."""

    def wait(self) -> None:  # noqa: B027 (optional)
        """Reap finished local processes; nothing for executors without children."""
