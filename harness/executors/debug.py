"""``debug``: every run in this process, one after another, while ``submit`` returns."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import submitit

from harness.executors.base import Executor, Unit
from harness.job.entry import CellJob


class DebugExecutor(Executor):
    """Runs units in process through submitit's debug executor (no parallelism, no requeue)."""

    name = "debug"
    _ex: submitit.AutoExecutor | None = None

    def _submitit(self) -> submitit.AutoExecutor:
        """submitit's debug executor, made once (a search submits a trial at a time)."""
        if self._ex is None:
            self._ex = submitit.AutoExecutor(folder=self.folder / "%j", cluster="debug")
        return self._ex

    def submit(self, units: Sequence[Unit], token: str) -> list[str]:
        ex = self._submitit()
        ids = []
        for unit in units:
            ex.update_parameters(timeout_min=unit.resources.timeout_min, name=f"lors-{token}")
            job = ex.submit(CellJob(), list(unit.payloads))
            job.result()  # the debug executor runs the job here; run_cell never raises
            ids.append(str(job.job_id))
        return ids

    @classmethod
    def alive(cls, job_ids: Collection[str]) -> dict[str, bool]:
        return dict.fromkeys(job_ids, False)

    @classmethod
    def adopt(cls, token: str, units: Sequence[Sequence[str]], folder: Path) -> list[str | None]:
        return [None] * len(units)  # its jobs ran inside the launcher that died
