"""What became of a run whose job ended without closing its attempt, written into its record.

A process killed by SIGKILL (kill -9, SLURM's kill after scancel or scontrol requeue, the OOM
killer) cannot close its own attempt. Whoever looks next (the launcher following its runs, a
relaunch, ``harness.status``) asks the executors where each open attempt's job stands and closes
the attempts whose job no longer runs:

- pending again (SLURM requeued it: ``scontrol requeue``, the scheduler's preemption): exit
  ``requeued``, the run ``queued``; the job resumes it from its last checkpoint;
- gone from the queue, with ``sacct``: its state decides (``CANCELLED by 0`` -> ``cancelled``,
  ``TIMEOUT`` -> ``timeout``, ``PREEMPTED`` -> ``preempted``, anything else -> ``killed``), and
  the end is when its last step stopped;
- gone, without ``sacct``: ``cancelled`` when the attempt noted SLURM's SIGTERM before it died
  (SLURM terminates a job that way), else ``killed``; the end is its last heartbeat.

- still running, but silent: no heartbeat for ``LORS_STALL_S`` seconds (600 by default; the
  heartbeat comes every 5 s from a thread of the training process, so only a process that is
  stopped or wedged outside Python falls silent): the job is cancelled, exit ``stalled``.

Such runs are ``failed`` (``--retry`` resumes them). A run left ``queued`` by an attempt that
closed for a requeue (``timeout``, ``preempted``) whose job then left the queue instead is failed
too. Nothing changes while a job still runs or its executor cannot be asked.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness.errors import RecordError
from harness.executors.base import JobState
from harness.executors.factory import cancel_jobs, job_states
from harness.job.heartbeat import HEARTBEAT_S
from harness.records.attempt import Attempt
from harness.records.closing import close_ended, fail_stranded
from harness.records.record import RunRecord, read_run_record
from harness.records.schema import REQUEUE_EXITS

logger = logging.getLogger(__name__)
STALL_ENV = "LORS_STALL_S"
HEARTBEAT_LIMIT_S = 3 * HEARTBEAT_S  # never judge a job stalled within three heartbeats
# sacct may lag the queue; this long after the last heartbeat, judge without it
ACCOUNTING_LAG_S = 60.0
# sacct's state of a job that left the queue -> the attempt's exit (every other state: killed);
# OUT_OF_MEMORY (the cgroup's OOM killer) is a failure of class oom: the same resources would
# be killed again, so nothing resubmits it as a vanished run
_BY_SACCT = (
    ("CANCELLED", "cancelled"),
    ("TIMEOUT", "timeout"),
    ("PREEMPTED", "preempted"),
    ("OUT_OF_MEMORY", "failed"),
)


@dataclass(frozen=True)
class Settled:
    """One record this closed: the run, how its attempt ended, and how the harness knows."""

    path: Path
    label: str
    job: str
    cause: str
    detail: str

    def __str__(self) -> str:
        return f"{self.label}: job {self.job} {self.cause} ({self.detail})"


def stall_s() -> float:
    """Seconds without a heartbeat after which a running job is stalled (``LORS_STALL_S``)."""
    try:
        return max(HEARTBEAT_LIMIT_S, float(os.environ.get(STALL_ENV) or 600))
    except ValueError:
        return 600.0


def verdict(attempt: Attempt, state: JobState) -> tuple[str, str, str | None, bool] | None:
    """``(exit, detail, end, again)`` for an open attempt whose job no longer runs it, or runs
    it without a heartbeat for :func:`stall_s`, else None (still running, or the executor
    cannot tell)."""
    term = next((s for s in attempt.signals if s.startswith("SIGTERM")), None)
    if state.phase == "running" and (silent := _silent_for(attempt)) > stall_s():
        detail = f"no heartbeat for {silent:.0f} s while job {attempt.job_id} ran; cancelled"
        return "stalled", detail, None, False
    if state.phase == "pending":
        why = f"; the process got {term}" if term else ""
        return "requeued", f"SLURM requeued job {attempt.job_id}: pending again{why}", None, True
    if state.phase == "ending" and _silent_for(attempt) < ACCOUNTING_LAG_S:
        return None  # sacct will say how it ended in a moment
    if state.phase not in ("ended", "ending"):
        return None
    if state.phase == "ended" and state.state is not None:
        cause = next((c for s, c in _BY_SACCT if state.state.startswith(s)), "killed")
        exit_code = f", exit code {state.exit_code}" if state.exit_code else ""
        end = state.end if state.end and state.end >= (attempt.start or "") else None
        return cause, f"sacct: {state.state}{exit_code}", end, False
    if term:
        detail = f"the job left the queue after SLURM's {term} (scancel or a limit; no sacct)"
        return "cancelled", detail, None, False
    return "killed", "the job left the queue without closing the run (no sacct)", None, False


def _silent_for(attempt: Attempt) -> float:
    """Seconds since the attempt's last heartbeat (or its start)."""
    last = attempt.heartbeat or attempt.start
    if last is None:
        return math.inf
    return (datetime.now(UTC) - datetime.fromisoformat(last)).total_seconds()


def _read(path: Path) -> RunRecord | None:
    try:
        return read_run_record(path)
    except RecordError as exc:  # the plan reports it; nothing here can be trusted
        logger.debug("%s", exc)
        return None


def settle(paths: Iterable[Path]) -> list[Settled]:
    """Close the attempts of these records whose job ended without closing them (the jobs are
    asked of their executors once, all together); returns what changed."""
    records = [r for r in map(_read, paths) if r is not None and r.path is not None]
    open_ = [r for r in records if r.status in ("running", "queued") and r.attempts]
    if not open_:
        return []
    states = job_states({r.attempts[-1].job for r in open_})
    out = []
    for r in open_:
        attempt = r.attempts[-1]
        state = states.get(attempt.job, JobState("unknown"))
        if r.path is None or attempt.start is None:  # a hand-made record: nothing to match
            continue
        if attempt.exit is None:
            found = verdict(attempt, state)
            if found is None:
                continue
            cause, detail, end, again = found
            if cause == "stalled":
                # the record was read before the executor answered (squeue can take seconds):
                # judge the silence again on a fresh read, so a heartbeat written meanwhile counts
                fresh = _read(r.path)
                if fresh is None or not fresh.attempts or fresh.attempts[-1].start != attempt.start:
                    continue
                found = verdict(fresh.attempts[-1], state)
                if found is None or found[0] != "stalled":
                    continue
                cause, detail, end, again = found
                cancel_jobs([attempt.job])  # its processes live: end them before the record
            oom = "oom" if (state.state or "").startswith("OUT_OF_MEMORY") else None
            if close_ended(r.path, attempt.start, cause, detail, end, again, failure=oom):
                out.append(Settled(r.path, r.label, attempt.job, cause, detail))
        elif (
            r.status == "queued"
            and attempt.exit in REQUEUE_EXITS
            and state.phase in ("ended", "ending")
        ):
            note = f"job {attempt.job} left the queue after its {attempt.exit}, not requeued"
            if fail_stranded(r.path, attempt.start, note):
                out.append(Settled(r.path, r.label, attempt.job, attempt.exit, note))
    return out
