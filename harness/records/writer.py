"""The only writer of run records (docs/record.md); every change is validated and written at once.

The job holds one :class:`RecordWriter` per run: it creates the record (or continues the one an
earlier attempt left), opens an attempt, appends each evaluation to the history, beats (a
heartbeat thread saves it every few seconds, so a process killed at any moment leaves the time it
was last alive) and closes the attempt with an exit cause. Every method writes the file
atomically. Before a write the record is parsed as a :class:`~harness.records.record.RunRecord`,
so no reader ever meets a record this wrote badly. The changes made from outside a job live in
:mod:`harness.records.closing`.
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.errors import RecordError
from harness.records.record import RunRecord
from harness.records.schema import (
    COCO_PREFIX,
    METRIC_KEYS,
    REQUEUE_EXITS,
    SCHEMA,
    VANISHED_EXITS,
)
from harness.records.store import now_iso, read_raw, record_lock, write_record


def coco_metrics(results: Mapping[str, Any]) -> dict[str, float | None]:
    """The record's six bbox metrics from an mmengine evaluation result.

    A key CocoMetric did not produce (no detections at all) is None, never 0; so is COCO's -1,
    its value for an area range without ground truth.
    """
    out: dict[str, float | None] = {}
    for key in METRIC_KEYS:
        value = results.get(COCO_PREFIX + key)
        number = float(value) if isinstance(value, numbers.Real) else math.nan
        out[key] = number if math.isfinite(number) and number >= 0 else None
    return out


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


class RecordWriter:
    """One run's record, kept in memory and written atomically after every change. Safe to use
    from the training thread and the heartbeat thread; :meth:`note_signal` from a signal handler.

    Args:
        path: the record file (``<run folder>/record.json``).
        fields: the keys a new record starts with (sweep, profile, label, cell, run_id, config,
            overrides, identity, data_manifest, code, versions, run_dir, wandb); for a record that
            exists, these refresh it (the config and code of this attempt), the history stays.
    """

    def __init__(self, path: Path, fields: Mapping[str, Any]) -> None:
        self.path = path
        self._fields = dict(fields)
        self._lock = threading.RLock()
        self._signals: list[str] = []  # appended by a signal handler, folded in by save()
        self.record: dict[str, Any] = {}
        self._load()

    def _load(self) -> None:
        existing = read_dict(self.path)
        base: dict[str, Any] = {
            "schema": SCHEMA,
            "status": "queued",
            "metrics": {},
            "history": [],
            "attempts": [],
            "params": {},
            "wall_time_s": None,
            "checkpoint": None,
            "error_tail": None,
            "created": now_iso(),
        }
        self.record = {**base, **(existing or {}), **self._fields}
        self.record["schema"] = SCHEMA
        old_wandb = (existing or {}).get("wandb") or {}
        if old_wandb.get("synced_dirs") and isinstance(self.record.get("wandb"), dict):
            # a new attempt adds an offline run to upload; keep the list of those already sent
            self.record["wandb"] = {**self.record["wandb"], "synced_dirs": old_wandb["synced_dirs"]}

    @property
    def status(self) -> str:
        """The record's status."""
        return str(self.record["status"])

    @property
    def attempt_open(self) -> bool:
        """Whether the newest attempt is still open (no exit yet)."""
        attempts = self.record["attempts"]
        return bool(attempts) and attempts[-1].get("exit") is None

    def save(self) -> None:
        """Validate the record and write it now (an open attempt's heartbeat is this moment)."""
        with self._lock:
            if self.attempt_open:
                attempt = self.record["attempts"][-1]
                attempt["heartbeat"] = now_iso()
                while self._signals:
                    attempt["signals"] = [*attempt.get("signals", []), self._signals.pop(0)]
            save_checked(self.path, self.record)

    def note_signal(self, name: str) -> None:
        """Remember a termination signal for the next save (safe inside a signal handler: it
        neither takes the lock nor touches the record)."""
        self._signals.append(f"{name} at {now_iso()}")

    def start_attempt(
        self, executor: str, job_id: str, node: str, pid: int, processes: int = 1
    ) -> None:
        """Open an attempt; the status becomes ``running``. An earlier attempt left open (its
        process died without closing it) closes at the last time it was alive: ``requeued`` when
        this is the same job again (SLURM requeued it), else ``killed``."""
        with self._lock, record_lock(self.path.parent):
            self._load()  # the launcher may have closed the earlier attempt since we read it
            if self.attempt_open:
                prev = self.record["attempts"][-1]
                again = (prev.get("executor"), prev.get("job_id")) == (executor, job_id)
                how = "the same job started again" if again else f"job {job_id} started"
                close(
                    self.record,
                    "requeued" if again else "killed",
                    detail=f"its process ended without closing it; noticed when {how}",
                    detected=now_iso(),
                )
            self.record["attempts"].append(
                {
                    "executor": executor,
                    "job_id": job_id,
                    "node": node,
                    "pid": pid,
                    "start": now_iso(),
                    "end": None,
                    "exit": None,
                    "resumed_from_iter": 0,
                    "processes": processes,
                }
            )
            self.record.update(status="running", error_tail=None, pruned=None)
            self.save()

    def set_config(self, config: Mapping[str, Any]) -> None:
        """The resolved config this attempt trains."""
        with self._lock:
            self.record["config"] = dict(config)
            self.save()

    def resumed_from(self, iteration: int) -> None:
        """The iteration this attempt starts from (0 unless it resumed a checkpoint)."""
        with self._lock:
            self.record["attempts"][-1]["resumed_from_iter"] = int(iteration)
            self.save()

    def set_params(self, params: Mapping[str, int]) -> None:
        """Parameter counts of the built model."""
        with self._lock:
            self.record["params"] = {k: int(v) for k, v in params.items()}
            self.save()

    def tracker_lost(self, error: str) -> None:
        """The tracker (W&B) stopped taking data: say so once; the run goes on without it."""
        with self._lock:
            wandb = dict(self.record.get("wandb") or {})
            if wandb.get("lost"):
                return
            wandb["lost"] = {"at": now_iso(), "error": error[:500]}
            self.record["wandb"] = wandb
            self.save()

    def add_evaluation(
        self, epoch: int | None, iteration: int, results: Mapping[str, Any], checkpoint: str | None
    ) -> None:
        """Append one evaluation to the history (bbox metrics plus any other numeric result)."""
        entry: dict[str, Any] = {"epoch": epoch, "iter": int(iteration), **coco_metrics(results)}
        for key, value in results.items():
            if not key.startswith(COCO_PREFIX) and isinstance(value, numbers.Real):
                entry[key] = float(value)
        with self._lock:
            history = [h for h in self.record["history"] if h.get("iter") != entry["iter"]]
            self.record["history"] = [*history, entry]
            self.record["checkpoint"] = checkpoint
            self.save()

    def finish(
        self,
        exit_cause: str,
        checkpoint: str | None = None,
        error_tail: str | None = None,
        pruned: Mapping[str, Any] | None = None,
        failure: str | None = None,
    ) -> None:
        """Close the current attempt (``completed``, ``failed``, ``timeout``, ``preempted``,
        ``pruned``); a ``failed`` one with its ``failure`` class (``harness.job.failure``).

        ``completed`` makes the run ``done`` with the last evaluation as its metrics;
        ``failed`` makes it ``failed``; ``pruned`` makes it ``pruned`` (``pruned``: the trial,
        step, iteration and value the pruner stopped it at); an interrupted attempt leaves it
        ``queued`` for the requeued job.
        """
        with self._lock:
            close(self.record, exit_cause, end=now_iso())
            if failure is not None:
                self.record["attempts"][-1]["failure"] = failure
            if pruned is not None:
                self.record["attempts"][-1]["pruned"] = dict(pruned)
            if checkpoint is not None:
                self.record["checkpoint"] = checkpoint
            if exit_cause == "failed":
                self.record["error_tail"] = error_tail
            elif exit_cause == "pruned":
                self.record["pruned"] = dict(pruned or {})
            self.save()

    def fail_after_close(self, error_tail: str) -> None:
        """The job will not run again after all (its requeue was refused): the run is failed,
        and its last attempt keeps the cause it closed with."""
        with self._lock:
            self.record.update(status="failed", error_tail=error_tail)
            self.save()


def read_dict(path: Path) -> dict[str, Any] | None:
    raw = read_raw(path)
    if raw is not None and not isinstance(raw, dict):
        raise RecordError(f"{path}: a record must be a JSON object, got {type(raw).__name__}")
    return raw


def save_checked(path: Path, record: dict[str, Any]) -> None:
    RunRecord.parse(record, path)  # raises RecordError: a bad write is a bug, caught here
    write_record(path, record)
