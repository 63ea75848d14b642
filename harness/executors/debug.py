"""``debug``: every run in this process, one after another, while ``submit`` returns.

The unit's job (:class:`CellJob`, what a local lane or an array task runs) is called directly:
no pickle, no subprocess, no per-job log files. submitit's own debug executor would add a copy
of the whole environment and two log handlers per job, which is most of a search trial's cost
when nothing is trained. The job still sees a submitit job environment (its id in the attempt).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from harness.errors import ExecutorError
from harness.executors.base import Executor, Unit
from harness.executors.environment import job_environment
from harness.job.entry import CellJob
from harness.job.payload import JobPayload

# the variable submitit's JobEnvironment reads to name a debug job
_JOB_ID = "SUBMITIT_DEBUG_JOB_ID"


class DebugExecutor(Executor):
    """Runs units in process (no parallelism, no requeue); job ids are ``<token>-<unit>``."""

    name = "debug"
    jobs_outlive_launcher = False

    def run_unit(self, payloads: Sequence[JobPayload]) -> list[str]:
        """What one job runs: :class:`CellJob` (``run_cell`` records failures, never raises)."""
        return CellJob()(payloads)

    def admit(self, units: Sequence[Unit]) -> None:
        most = max((p.resources.processes for u in units for p in u.payloads), default=1)
        if most > 1:
            raise ExecutorError(
                f"debug: runs ask for {most} processes (resources.tasks, gpus or nodes), but the "
                "debug executor runs one, in this process; choose --executor local or slurm"
            )

    def submit(self, units: Sequence[Unit], token: str) -> list[str]:
        ids = []
        for i, unit in enumerate(units):
            job_id = f"{token}-{i}"
            with job_environment({_JOB_ID: job_id}):
                self.run_unit(list(unit.payloads))
            ids.append(job_id)
        return ids

    @classmethod
    def alive(cls, job_ids: Collection[str]) -> dict[str, bool]:
        return dict.fromkeys(job_ids, False)

    @classmethod
    def adopt(cls, token: str, units: Sequence[Sequence[str]], folder: Path) -> list[str | None]:
        return [None] * len(units)  # its jobs ran inside the launcher that died
