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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.errors import RecordError
from harness.records.exits import close
from harness.records.record import RunRecord
from harness.records.schema import COCO_PREFIX, METRIC_KEYS, SCHEMA
from harness.records.store import (
    file_signature,
    last_checkpoint,
    now_iso,
    read_raw,
    record_lock,
    write_record,
)


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
        self._locked = 0  # how deep this writer holds the folder's record lock (under _lock)
        self._written: tuple[int, int, int] | None = None  # the file as this writer left it
        self._closed_outside = False  # the launcher closed the open attempt (see save())
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
        self._written = file_signature(self.path)
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

    @contextmanager
    def _folder_lock(self) -> Iterator[None]:
        """The run folder's record lock, taken once however deep the calls nest (a second
        ``flock`` on the same file from this process would wait for the first)."""
        with self._lock:
            if self._locked:
                self._locked += 1
                try:
                    yield
                finally:
                    self._locked -= 1
                return
            with record_lock(self.path.parent):
                self._locked = 1
                try:
                    yield
                finally:
                    self._locked = 0

    def _honour_outside_close(self) -> bool:
        """Whether the launcher has closed this writer's open attempt in the file meanwhile (it
        judged the job stalled, cancelled or killed, and acted on it): then that close stands in
        memory too, and no later write reopens it; what the job owns (history, checkpoint,
        params) is kept. Called under the folder lock; a ``stat`` when nobody else wrote."""
        if not self.attempt_open or file_signature(self.path) == self._written:
            return False
        disk = read_dict(self.path) or {}
        theirs = (disk.get("attempts") or [None])[-1]
        mine = self.record["attempts"][-1]
        if not isinstance(theirs, dict) or theirs.get("exit") is None:
            return False
        if (theirs.get("start"), theirs.get("job_id")) != (mine.get("start"), mine.get("job_id")):
            return False
        self.record["attempts"][-1] = theirs
        for key in ("status", "error_tail", "wall_time_s"):
            self.record[key] = disk.get(key)
        self._closed_outside = True
        return True

    def save(self) -> None:
        """Validate the record and write it now (an open attempt's heartbeat is this moment)."""
        with self._folder_lock():
            self._honour_outside_close()
            if self._closed_outside:
                # the process may train on until it is killed: the checkpoint to resume is the
                # last one mmengine finished writing, not the one an evaluation announced
                found = last_checkpoint(self.path.parent)
                self.record["checkpoint"] = found or self.record.get("checkpoint")
            if self.attempt_open:
                attempt = self.record["attempts"][-1]
                attempt["heartbeat"] = now_iso()
                while self._signals:
                    attempt["signals"] = [*attempt.get("signals", []), self._signals.pop(0)]
            save_checked(self.path, self.record)
            self._written = file_signature(self.path)

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
        with self._folder_lock():
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
        detail: str | None = None,
    ) -> None:
        """Close the current attempt (``completed``, ``failed``, ``timeout``, ``preempted``,
        ``pruned``, or ``killed``/``stalled`` when a peer process is gone: ``detail`` says
        which); a ``failed`` one with its ``failure`` class (``harness.job.failure``).

        ``completed`` makes the run ``done`` with the last evaluation as its metrics;
        ``failed`` makes it ``failed``; ``pruned`` makes it ``pruned`` (``pruned``: the trial,
        step, iteration and value the pruner stopped it at); an interrupted attempt leaves it
        ``queued`` for the requeued job.
        """
        with self._folder_lock():
            self._honour_outside_close()
            if not self.attempt_open:
                # the launcher ended this attempt first; its cause stands, the job's is noted
                attempt = self.record["attempts"][-1]
                said = [attempt.get("detail"), f"the job then ended {exit_cause}"]
                attempt["detail"] = "; ".join(d for d in said if d)
                self.save()
                return
            close(self.record, exit_cause, end=now_iso())
            if detail:  # a vanished exit's error tail says how it ended
                self.record["attempts"][-1]["detail"] = detail
                self.record["error_tail"] = f"{exit_cause}: {detail}"
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
