"""The only writer of run records (docs/record.md); every change is validated and written at once.

The job holds one :class:`RecordWriter` per run: it creates the record (or continues the one an
earlier attempt left), opens an attempt, appends each evaluation to the history and closes the
attempt with an exit cause. Every method writes the file atomically, so a run killed at any
moment leaves a record that says how far it got. Before a write the record is parsed as a
:class:`~harness.records.record.RunRecord`, so no reader ever meets a record this wrote badly.
:func:`close_killed` and :func:`mark_synced` are the two changes made from outside a job.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.errors import RecordError
from harness.records.record import RunRecord
from harness.records.schema import COCO_PREFIX, METRIC_KEYS, SCHEMA
from harness.records.store import now_iso, read_raw, write_record


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


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


class RecordWriter:
    """One run's record, kept in memory and written atomically after every change.

    Args:
        path: the record file (``<run folder>/record.json``).
        fields: the keys a new record starts with (sweep, profile, label, cell, run_id, config,
            overrides, identity, data_manifest, code, versions, run_dir, wandb); for a record that
            exists,
            these refresh it (the config and code of this attempt), the history stays.
    """

    def __init__(self, path: Path, fields: Mapping[str, Any]) -> None:
        self.path = path
        existing = _existing(path)
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
        self.record: dict[str, Any] = {**base, **(existing or {}), **dict(fields)}
        self.record["schema"] = SCHEMA
        uploaded = ((existing or {}).get("wandb") or {}).get("synced_dirs")
        if uploaded and isinstance(self.record.get("wandb"), dict):
            # a new attempt adds an offline run to upload; keep the list of those already sent
            self.record["wandb"] = {**self.record["wandb"], "synced_dirs": uploaded}

    @property
    def status(self) -> str:
        """The record's status."""
        return str(self.record["status"])

    def save(self) -> None:
        """Validate the record and write it now."""
        _save(self.path, self.record)

    def start_attempt(self, executor: str, job_id: str, node: str, pid: int) -> None:
        """Open an attempt; an earlier attempt left open (its process was killed) closes as
        ``killed``. The status becomes ``running``."""
        attempts = self.record["attempts"]
        if attempts and attempts[-1].get("exit") is None:
            attempts[-1]["exit"] = "killed"
        attempts.append(
            {
                "executor": executor,
                "job_id": job_id,
                "node": node,
                "pid": pid,
                "start": now_iso(),
                "end": None,
                "exit": None,
                "resumed_from_iter": 0,
            }
        )
        self.record.update(status="running", error_tail=None, pruned=None)
        self.save()

    def resumed_from(self, iteration: int) -> None:
        """The iteration this attempt starts from (0 unless it resumed a checkpoint)."""
        self.record["attempts"][-1]["resumed_from_iter"] = int(iteration)
        self.save()

    def set_params(self, params: Mapping[str, int]) -> None:
        """Parameter counts of the built model."""
        self.record["params"] = {k: int(v) for k, v in params.items()}
        self.save()

    def add_evaluation(
        self, epoch: int | None, iteration: int, results: Mapping[str, Any], checkpoint: str | None
    ) -> None:
        """Append one evaluation to the history (bbox metrics plus any other numeric result)."""
        entry: dict[str, Any] = {"epoch": epoch, "iter": int(iteration), **coco_metrics(results)}
        for key, value in results.items():
            if not key.startswith(COCO_PREFIX) and isinstance(value, numbers.Real):
                entry[key] = float(value)
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
    ) -> None:
        """Close the current attempt (``completed``, ``failed``, ``timeout``, ``preempted``,
        ``pruned``).

        ``completed`` makes the run ``done`` with the last evaluation as its metrics;
        ``failed`` makes it ``failed``; ``pruned`` makes it ``pruned`` (``pruned``: the trial,
        step, iteration and value the pruner stopped it at); an interrupted attempt leaves it
        ``queued`` for the requeued job.
        """
        attempt = self.record["attempts"][-1]
        attempt.update(end=now_iso(), exit=exit_cause)
        if pruned is not None:
            attempt["pruned"] = dict(pruned)
        self.record["wall_time_s"] = round(
            sum(_seconds(a["start"], a["end"]) for a in self.record["attempts"] if a.get("end")),
            3,
        )
        if checkpoint is not None:
            self.record["checkpoint"] = checkpoint
        if exit_cause == "completed":
            last = self.record["history"][-1] if self.record["history"] else {}
            self.record["metrics"] = {k: last.get(k) for k in METRIC_KEYS} if last else {}
            self.record["status"] = "done"
        elif exit_cause == "failed":
            self.record.update(status="failed", error_tail=error_tail)
        elif exit_cause == "pruned":
            self.record.update(status="pruned", pruned=dict(pruned or {}))
        else:
            self.record["status"] = "queued"
        self.save()


def _existing(path: Path) -> dict[str, Any] | None:
    raw = read_raw(path)
    if raw is not None and not isinstance(raw, dict):
        raise RecordError(f"{path}: a record must be a JSON object, got {type(raw).__name__}")
    return raw


def _save(path: Path, record: dict[str, Any]) -> None:
    RunRecord.parse(record, path)  # raises RecordError: a bad write is a bug, caught here
    write_record(path, record)


def close_killed(path: Path, note: str) -> bool:
    """Mark a run whose job ended mid-run as failed (its open attempt exits ``killed``).

    Returns:
        Whether the record changed (False when it is not running or queued any more).
    """
    record = _existing(path)
    if record is None or record.get("status") not in ("running", "queued"):
        return False
    attempts = record.get("attempts") or []
    if attempts and attempts[-1].get("exit") is None:
        attempts[-1].update(exit="killed", end=now_iso())
    record.update(status="failed", error_tail=note)
    _save(path, record)
    return True


def mark_synced(path: Path, dirs: list[str]) -> None:
    """Record that these offline W&B run folders of a run were uploaded."""
    record = _existing(path)
    if record is None:
        return
    wandb = dict(record.get("wandb") or {})
    names = sorted({*(wandb.get("synced_dirs") or []), *dirs})
    wandb.update(synced=True, synced_at=now_iso(), synced_dirs=names)
    record["wandb"] = wandb
    _save(path, record)
