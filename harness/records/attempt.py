"""``Attempt``: one job's try at a run, as ``record.attempts[i]`` holds it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.records.checks import Bad, opt
from harness.records.schema import EXITS


@dataclass(frozen=True)
class Attempt:
    """One job's try at a run (``record.attempts[i]``).

    Attributes:
        exit: one of ``EXITS``, or None while the attempt is open.
        heartbeat: the last time the training process said it was alive.
        signals: ``"SIGTERM at <time>"`` for each termination signal the process received.
        detail: how the harness learnt how the attempt ended, for an attempt it closed from
            outside (``sacct: CANCELLED by 0``, ``left the queue; no sacct``).
        detected: when the harness noticed that end.
        processes: the job's training processes (its ``WORLD_SIZE``; rank 0 writes the record).
        failure: for a ``failed`` attempt, its class: ``oom``, ``nan`` or ``error``
            (``harness.job.failure``); None for an attempt that failed before they were kept.
    """

    executor: str
    job_id: str
    node: str | None = None
    start: str | None = None
    end: str | None = None
    exit: str | None = None
    resumed_from_iter: int = 0
    heartbeat: str | None = None
    signals: tuple[str, ...] = ()
    detail: str | None = None
    detected: str | None = None
    processes: int = 1
    failure: str | None = None

    @property
    def job(self) -> str:
        """``executor:job_id``."""
        return f"{self.executor}:{self.job_id}"


def parse_attempt(raw: Any, index: int) -> Attempt:
    """``record.attempts[index]`` as an :class:`Attempt`.

    Raises:
        Bad: the entry breaks the schema (names the key).
    """
    if not isinstance(raw, dict):
        raise Bad(f"key 'attempts[{index}]' must be an object, got {raw!r}"[:200])
    where = f"attempts[{index}]."
    resumed = opt(raw, "resumed_from_iter", int, where)
    exit_cause = opt(raw, "exit", str, where)
    if exit_cause is not None and exit_cause not in EXITS:
        raise Bad(f"key '{where}exit' is {exit_cause!r}; valid: {', '.join(EXITS)} or null")
    signals = opt(raw, "signals", list, where) or []
    return Attempt(
        executor=str(raw.get("executor") or "?"),
        job_id=str(raw.get("job_id") or "?"),
        node=opt(raw, "node", str, where),
        start=opt(raw, "start", str, where),
        end=opt(raw, "end", str, where),
        exit=exit_cause,
        resumed_from_iter=resumed or 0,
        heartbeat=opt(raw, "heartbeat", str, where),
        signals=tuple(str(s) for s in signals),
        detail=opt(raw, "detail", str, where),
        detected=opt(raw, "detected", str, where),
        processes=opt(raw, "processes", int, where) or 1,
        failure=opt(raw, "failure", str, where),
    )
