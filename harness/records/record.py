"""``RunRecord``: one run's ``record.json`` as a typed, frozen, validated object.

The one parser of records (docs/record.md): the plan, ``harness.status``, the W&B sync, the
analysis and the search read records through :func:`read_run_record` / :meth:`RunRecord.parse`,
and :class:`~harness.records.writer.RecordWriter` validates through it before every write.
Schema 1 files (before the ``identity`` block) are migrated on read: their identity is taken from
``data_manifest`` and ``code.source_hash``, and their config digest is worked out from the
record's ``config`` block when someone asks (:func:`config_digest`).

A record whose file cannot be read, is not JSON, or breaks the schema raises
:class:`~harness.errors.RecordError` whose message starts with the file's path and names the key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import RecordError
from harness.identity.config import ConfigHasher
from harness.records.attempt import Attempt, parse_attempt
from harness.records.checks import Bad, get, opt
from harness.records.schema import (
    COCO_UNDEFINED,
    RECORD_STATUSES,
    SCHEMA,
    SCHEMAS_READ,
    VANISHED_EXITS,
)
from harness.records.store import read_raw


@dataclass(frozen=True)
class RunIdentity:
    """The parts the run id hashes; ``config`` is None in a schema-1 record (see
    :func:`config_digest`)."""

    config: str | None
    data: str | None
    code: str | None


@dataclass(frozen=True)
class RunRecord:
    """A run record without its resolved ``config`` block (read that with :func:`read_config`:
    it is most of a record's bytes and nothing but a config diff needs it).

    Attributes:
        path: the ``record.json`` file (None for a record not read from disk).
        run_id: 12 hex characters naming the run folder, the W&B run and the record.
        sweep / profile / label: where the run belongs.
        coords: axis name -> value label of the cell; ``seed``: its seed or None.
        status: one of ``RECORD_STATUSES``.
        metrics: COCO bbox metrics as fractions in [0, 1]; None where CocoMetric had no value.
        params: parameter counts by part.
        history: one mapping per evaluation (``iter``, metrics, other numeric results).
        attempts: the jobs that ran it, oldest first.
        identity: the run id's parts.
        commit / dirty: the git commit of the run's code and whether the tree was dirty.
        wandb_id / wandb_mode / wandb_synced / synced_dirs: the W&B run and its upload state.
        wandb_lost: why the W&B run stopped taking data mid-run (the training went on), or None.
        checkpoint: the last checkpoint, relative to the run folder.
        run_dir: the run folder, relative to the runs root.
        error_tail: the last lines of a failed run's log.
        overrides: the dotted keys the cell set.
        search: ``{"study", "trial"}`` when the run is a search trial.
        pruned: ``{"trial", "step", "iter", "value"}`` when a search's pruner stopped the run.
        updated / created: ISO-8601 times.
        schema: the schema the file was written in (1 or 2).
    """

    path: Path | None
    run_id: str
    sweep: str
    profile: str
    label: str
    coords: Mapping[str, str]
    seed: int | None
    status: str
    metrics: Mapping[str, float | None]
    params: Mapping[str, int]
    history: tuple[Mapping[str, Any], ...] = ()
    attempts: tuple[Attempt, ...] = ()
    identity: RunIdentity = RunIdentity(None, None, None)
    commit: str | None = None
    dirty: bool = False
    wandb_id: str | None = None
    wandb_mode: str | None = None
    wandb_synced: bool = False
    synced_dirs: tuple[str, ...] = ()
    wandb_lost: str | None = None
    checkpoint: str | None = None
    run_dir: str | None = None
    error_tail: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    search: Mapping[str, Any] | None = None
    pruned: Mapping[str, Any] | None = None
    updated: str | None = None
    created: str | None = None
    schema: int = SCHEMA

    @classmethod
    def parse(cls, raw: Any, path: Path | None = None) -> RunRecord:
        """Validate a record loaded from JSON (schema 1 or 2).

        Raises:
            RecordError: the data breaks the schema; the message starts with ``path``.
        """
        try:
            return _parse(raw, path)
        except Bad as exc:
            raise RecordError(f"{path or 'record'}: {exc}") from None

    @property
    def jobs(self) -> tuple[str, ...]:
        """``executor:job_id`` of every attempt, oldest first."""
        return tuple(a.job for a in self.attempts)

    @property
    def outcome(self) -> str:
        """The status in a cluster user's words: a ``failed`` run whose last attempt was
        ``cancelled``, ``killed`` or ``stalled`` says that instead (the status keeps the plan's
        vocabulary)."""
        last = self.attempts[-1].exit if self.attempts else None
        if self.status == "failed" and last in VANISHED_EXITS:
            return last
        if self.status == "queued" and last in ("timeout", "preempted", "requeued"):
            return f"queued ({last})"
        return self.status

    @property
    def last_start(self) -> str:
        """When the newest attempt began ('' before any): orders a label's runs newest first."""
        starts = [a.start for a in self.attempts if a.start]
        return max(starts) if starts else (self.created or "")

    def value(self, key: str) -> float | None:
        """The raw value of a metric key (``bbox_mAP``), a parameter key (``params.total``) or
        ``history.<result>`` (that numeric result of the last evaluation); None when absent."""
        if key.startswith("params."):
            count = self.params.get(key.removeprefix("params."))
            return None if count is None else float(count)
        if key.startswith("history."):
            last = self.history[-1] if self.history else {}
            found = last.get(key.removeprefix("history."))
            if isinstance(found, int | float) and not isinstance(found, bool):
                return float(found)
            return None
        return self.metrics.get(key)


def read_run_record(path: Path) -> RunRecord | None:
    """The record at ``path``, or None when the file does not exist.

    Raises:
        RecordError: the file is unreadable, not JSON, or breaks the schema.
    """
    raw = read_raw(path)
    return None if raw is None else RunRecord.parse(raw, path)


def read_config(path: Path) -> dict[str, Any] | None:
    """The ``config`` block of the record at ``path`` (None when absent or unreadable)."""
    try:
        raw = read_raw(path)
    except RecordError:
        return None
    config = (raw or {}).get("config")
    return config if isinstance(config, dict) else None


def config_digest(record: RunRecord) -> str | None:
    """The config part of a record's identity: stored (schema 2) or worked out from its config
    block (schema 1); None when neither is there."""
    if record.identity.config is not None or record.path is None:
        return record.identity.config
    config = read_config(record.path)
    return None if config is None else ConfigHasher().digest(config)


def _parse(raw: Any, path: Path | None) -> RunRecord:
    if not isinstance(raw, dict):
        raise Bad(f"expected a JSON object, got {type(raw).__name__}")
    schema = raw.get("schema")
    if schema not in SCHEMAS_READ or isinstance(schema, bool):
        valid = ", ".join(map(str, SCHEMAS_READ))
        raise Bad(f"key 'schema' is {schema!r}; this harness reads schema {valid}")
    status = get(raw, "status", str)
    if status not in RECORD_STATUSES:
        raise Bad(f"key 'status' is {status!r}; valid: {', '.join(RECORD_STATUSES)}")
    cell = get(raw, "cell", dict)
    coords = get(cell, "coords", dict, where="cell.")
    for axis, value in coords.items():
        if not isinstance(value, str):
            raise Bad(f"key 'cell.coords.{axis}' must be a string, got {value!r}"[:200])
    seed = cell.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise Bad(f"key 'cell.seed' must be an integer or null, got {seed!r}"[:200])
    code = opt(raw, "code", dict) or {}
    wandb = opt(raw, "wandb", dict) or {}
    history = opt(raw, "history", list) or []
    if not all(isinstance(h, dict) for h in history):
        raise Bad("key 'history' must be a list of objects")
    return RunRecord(
        path=path,
        run_id=get(raw, "run_id", str),
        sweep=get(raw, "sweep", str),
        profile=get(raw, "profile", str),
        label=get(raw, "label", str),
        coords=coords,
        seed=seed,
        status=status,
        metrics=_metrics(get(raw, "metrics", dict)),
        params=_params(get(raw, "params", dict)),
        history=tuple(history),
        attempts=tuple(parse_attempt(a, i) for i, a in enumerate(opt(raw, "attempts", list) or [])),
        identity=_identity(raw, code, schema),
        commit=opt(code, "commit", str),
        dirty=bool(code.get("dirty", False)),
        wandb_id=opt(wandb, "id", str),
        wandb_mode=opt(wandb, "mode", str),
        wandb_synced=bool(wandb.get("synced", False)),
        synced_dirs=tuple(str(d) for d in (opt(wandb, "synced_dirs", list) or [])),
        wandb_lost=_lost(wandb),
        checkpoint=opt(raw, "checkpoint", str),
        run_dir=opt(raw, "run_dir", str),
        error_tail=opt(raw, "error_tail", str),
        overrides=opt(raw, "overrides", dict) or {},
        search=opt(raw, "search", dict),
        pruned=opt(raw, "pruned", dict),
        updated=opt(raw, "updated", str),
        created=opt(raw, "created", str),
        schema=schema,
    )


def _identity(raw: dict[str, Any], code: dict[str, Any], schema: int) -> RunIdentity:
    if schema == 1:  # migrated: no config digest was stored before schema 2
        return RunIdentity(None, opt(raw, "data_manifest", str), opt(code, "source_hash", str))
    block = get(raw, "identity", dict)
    parts = [get(block, k, str, where="identity.") for k in ("config", "data", "code")]
    return RunIdentity(*parts)


def _metrics(raw: dict[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for key, value in raw.items():
        if value is None or value == COCO_UNDEFINED:
            # pycocotools reports -1 where a metric is undefined (no ground truth of that size);
            # it means the same as null, never a value below zero
            out[key] = None
            continue
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise Bad(f"key 'metrics.{key}' must be a fraction in [0, 1] or null, got {value!r}")
        out[key] = float(value)
    return out


def _params(raw: dict[str, Any]) -> dict[str, int]:
    for key, value in raw.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise Bad(f"key 'params.{key}' must be a non-negative integer, got {value!r}")
    return raw


def _lost(wandb: dict[str, Any]) -> str | None:
    lost = opt(wandb, "lost", dict, where="wandb.")
    if lost is None:
        return None
    return f"{opt(lost, 'error', str, 'wandb.lost.') or '?'} at {opt(lost, 'at', str) or '?'}"
