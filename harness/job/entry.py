"""``CellJob``: the callable every executor submits (one SLURM array task or one local lane).

It is checkpointable: when SLURM (or submitit's local controller) signals a timeout or a
preemption, submitit calls :meth:`CellJob.checkpoint`, which closes the running attempt and
requeues the same job; the requeued job skips the runs already done and resumes the interrupted
one from its last checkpoint in the run folder.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import submitit

from harness.job.payload import JobPayload

logger = logging.getLogger(__name__)


class CellJob(submitit.helpers.Checkpointable):
    """Run payloads one after another; returns each run's final status."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, payloads: Sequence[JobPayload]) -> list[str]:
        from harness.job.run import run_cell  # torch and mmengine: only on the worker

        self.started = time.monotonic()
        return [run_cell(p) for p in payloads]

    def checkpoint(self, payloads: Sequence[JobPayload]) -> submitit.helpers.DelayedSubmission:
        """Close the running attempt as ``timeout`` or ``preempted`` and requeue this job."""
        from harness.job.run import interrupt_current

        timeout_s = max(p.resources.timeout_min for p in payloads) * 60 if payloads else 0
        elapsed = time.monotonic() - self.started
        # The timeout signal comes at most a few minutes before the limit; earlier ones preempt.
        interrupt_current("timeout" if elapsed >= timeout_s - 300 else "preempted")
        return submitit.helpers.DelayedSubmission(CellJob(), payloads)

    def __repr__(self) -> str:
        return "CellJob()"

    def __reduce__(self) -> tuple[Any, ...]:
        return (CellJob, ())
