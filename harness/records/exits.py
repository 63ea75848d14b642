"""How an exit cause closes an attempt and sets the run's status: the one rule the job's record
writer and the launcher's closes (:mod:`harness.records.closing`) both apply."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from harness.records.schema import METRIC_KEYS, REQUEUE_EXITS, VANISHED_EXITS
from harness.records.store import now_iso


def wall_time(attempts: list[dict[str, Any]]) -> float:
    """Seconds summed over the attempts that have both a start and an end."""
    spans = [
        datetime.fromisoformat(a["end"]) - datetime.fromisoformat(a["start"])
        for a in attempts
        if a.get("start") and a.get("end")
    ]
    return round(sum(s.total_seconds() for s in spans), 3)


def close(
    record: dict[str, Any], cause: str, end: str | None = None, again: bool = True, **extra: Any
) -> None:
    """Close the record's open attempt with ``cause`` (at ``end``, else when it was last alive)
    and set the run's status, wall time and error tail to match; ``extra`` goes on the attempt.

    ``again``: whether the job runs again after a ``timeout``, ``preempted`` or ``requeued``
    exit (the run is ``queued`` for it), or has left the queue for good (the run is ``failed``).
    """
    attempt = record["attempts"][-1]
    last_alive = attempt.get("heartbeat") or record.get("updated") or now_iso()
    attempt.update(end=end or last_alive, exit=cause, **extra)
    record["wall_time_s"] = wall_time(record["attempts"])
    detail = extra.get("detail")
    if cause == "completed":
        last = record["history"][-1] if record["history"] else {}
        record["metrics"] = {k: last.get(k) for k in METRIC_KEYS} if last else {}
        record["status"] = "done"
    elif cause in REQUEUE_EXITS and again:
        record["status"] = "queued"  # the same job (or SLURM) runs it again
    elif cause in (*VANISHED_EXITS, *REQUEUE_EXITS):
        record.update(status="failed", error_tail=f"{cause}: {detail}" if detail else cause)
    else:  # failed, pruned: the caller sets the error tail or the pruned block
        record["status"] = cause if cause == "pruned" else "failed"
