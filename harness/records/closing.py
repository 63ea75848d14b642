"""The changes made to a record from outside its job: closing an attempt whose job ended without
closing it (cancelled, killed, requeued by SLURM), and noting a W&B upload.

Each one holds the run folder's record lock and re-reads the record under it, so it never undoes
what the job wrote meanwhile, and closes only the attempt it was asked about (a requeued job may
have opened the next one since the caller looked).
"""

from __future__ import annotations

from pathlib import Path

from harness.records.exits import close
from harness.records.store import last_checkpoint, now_iso, record_lock
from harness.records.writer import read_dict, save_checked


def close_ended(
    path: Path,
    start: str,
    cause: str,
    detail: str,
    end: str | None = None,
    again: bool = False,
    failure: str | None = None,
) -> bool:
    """Close the open attempt that began at ``start``, whose job ended without closing it.

    Args:
        path: the record file.
        start: the attempt's ``start`` (the one the caller judged).
        cause: the exit: ``cancelled``, ``killed``, ``requeued``, ``timeout``, ``preempted``.
        detail: how the harness knows (``sacct: CANCELLED by 0``).
        end: when the job's processes ended (sacct); None: the attempt's last heartbeat.
        again: the job waits in the queue to run again (SLURM requeued it): the run is
            ``queued``; else it is ``failed`` (``--retry`` resumes it from its checkpoint).
        failure: the failure class of a ``failed`` exit (``oom`` for sacct's OUT_OF_MEMORY).

    Returns:
        Whether the record changed (False: no such open attempt any more).
    """
    run_dir = path.parent
    with record_lock(run_dir):
        record = read_dict(path)
        attempts = (record or {}).get("attempts") or []
        if record is None or not attempts or attempts[-1].get("exit") is not None:
            return False
        if attempts[-1].get("start") != start or record.get("status") not in ("running", "queued"):
            return False
        extra = {"failure": failure} if failure else {}
        close(record, cause, end=end, again=again, detail=detail, detected=now_iso(), **extra)
        record["checkpoint"] = last_checkpoint(run_dir) or record.get("checkpoint")
        save_checked(path, record)
    return True


def fail_stranded(path: Path, start: str, note: str) -> bool:
    """A run left ``queued`` by an attempt that closed for a requeue (``timeout``,
    ``preempted``) whose job then left the queue instead: the run is failed, with ``note``.

    Returns:
        Whether the record changed.
    """
    with record_lock(path.parent):
        record = read_dict(path)
        attempts = (record or {}).get("attempts") or []
        if record is None or record.get("status") != "queued" or not attempts:
            return False
        if attempts[-1].get("start") != start or attempts[-1].get("exit") is None:
            return False
        record.update(status="failed", error_tail=note)
        save_checked(path, record)
    return True


def mark_synced(path: Path, dirs: list[str]) -> None:
    """Record that these offline W&B run folders of a run were uploaded."""
    with record_lock(path.parent):
        record = read_dict(path)
        if record is None:
            return
        wandb = dict(record.get("wandb") or {})
        names = sorted({*(wandb.get("synced_dirs") or []), *dirs})
        wandb.update(synced=True, synced_at=now_iso(), synced_dirs=names)
        record["wandb"] = wandb
        save_checked(path, record)
