"""``CellJob``: the callable every executor submits (one SLURM array task or one local lane).

It is checkpointable: when SLURM (or submitit's local controller) signals a timeout or a
preemption, submitit calls :meth:`CellJob.checkpoint`, which closes the running attempt and
requeues the same job; the requeued job skips the runs already done and resumes the interrupted
one from its last checkpoint in the run folder.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import submitit

from harness.job.payload import JobPayload

logger = logging.getLogger(__name__)


#: Seconds before the time limit at which the executor signals a job (it sets this variable in
#: the job's environment; SLURM exports the submitting environment to the job).
SIGNAL_DELAY_ENV = "LORS_SIGNAL_DELAY_S"
# The job's clock starts after the interpreter and imports are up, later than the scheduler's.
_START_SLACK_S = 60.0


def interrupt_cause(elapsed_s: float, limit_s: float, env: Mapping[str, str] | None = None) -> str:
    """``timeout`` when the checkpoint signal came in the window before the time limit, else
    ``preempted``.

    SLURM's projected end (``SLURM_JOB_END_TIME``) decides where the job has one; otherwise the
    time this job has run, against the limit less the signal delay the executor stated (a
    4-minute limit signalled 30 s early is a timeout after about 3.5 minutes, a preemption
    before). Without a stated delay, 4 minutes are assumed.
    """
    env = os.environ if env is None else env
    delay = float(env.get(SIGNAL_DELAY_ENV) or 240)
    end = env.get("SLURM_JOB_END_TIME")
    if end and end.isdigit():
        return "timeout" if int(end) - time.time() <= delay + _START_SLACK_S else "preempted"
    return "timeout" if elapsed_s >= limit_s - delay - _START_SLACK_S else "preempted"


class CellJob(submitit.helpers.Checkpointable):
    """Run payloads one after another; returns each run's final status."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.requeued = False

    def __call__(self, payloads: Sequence[JobPayload]) -> list[str]:
        from harness.job.run import run_cell  # torch and mmengine: only on the worker

        self.started = time.monotonic()
        statuses = []
        for p in payloads:
            statuses.append(run_cell(p))
            if self.requeued:
                break
        if self.requeued:
            self._leave_for_requeue()
        return statuses

    def checkpoint(self, payloads: Sequence[JobPayload]) -> submitit.helpers.DelayedSubmission:
        """Close the running attempt as ``timeout`` or ``preempted`` and requeue this job."""
        from harness.job.peers import leaving
        from harness.job.run import interrupt_current

        leaving()  # every process of the job gets the signal; none is a fault to the others
        timeout_s = max(p.resources.timeout_min for p in payloads) * 60 if payloads else 0
        interrupt_current(interrupt_cause(time.monotonic() - self.started, timeout_s))
        self.requeued = True
        return submitit.helpers.DelayedSubmission(CellJob(), payloads)

    def _leave_for_requeue(self) -> None:
        """submitit requeues by raising SystemExit from its signal handler, wherever the signal
        lands; code in the way can swallow it (a checkpoint save, mmengine's config printing, a
        collective of torch.distributed) and the job then returns as if it had finished. The
        requeue was asked for: on SLURM it is under way (``scontrol requeue`` ran); a local
        job is requeued by its exit code, so exit with it."""
        logger.warning("this job was signalled for requeue; it stops here and runs again")
        if "SUBMITIT_LOCAL_JOB_ID" in os.environ:
            from submitit.local.local import LOCAL_REQUEUE_RETURN_CODE

            raise SystemExit(LOCAL_REQUEUE_RETURN_CODE)

    def __repr__(self) -> str:
        return "CellJob()"

    def __reduce__(self) -> tuple[Any, ...]:
        return (CellJob, ())
