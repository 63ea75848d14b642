"""Reading run records (``record.json``, schema 1 of docs/record.md) into validated objects.

Only the keys the tables and their provenance need are checked and kept; readers ignore keys they
do not know. A file that is not JSON, is not schema 1, or holds a value of the wrong type raises
:class:`~analysis.errors.RecordError` whose message starts with the file's path.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.errors import RecordError
from harness.records.store import loads

logger = logging.getLogger(__name__)

SCHEMA = 1
RECORD_NAME = "record.json"
RECORD_STATUSES = ("queued", "running", "done", "failed")
COCO_UNDEFINED = -1.0


@dataclass(frozen=True)
class Record:
    """What the analysis reads from one run record.

    Attributes:
        path: the ``record.json`` file.
        run_id: 12 hex characters naming the run folder, the W&B run and the record.
        sweep: the sweep's name.
        profile: ``paper`` or ``smoke``.
        label: the cell's label (seed included).
        coords: axis name -> value label of the cell.
        seed: the cell's seed, or None.
        status: one of :data:`RECORD_STATUSES`.
        metrics: COCO bbox metrics as fractions in [0, 1]; None where CocoMetric had no value
            (null in the record, or pycocotools' -1 for a metric it cannot define).
        params: parameter counts by part (``total``, ``roi_head``, ...).
        jobs: ``executor:job_id`` of every attempt, oldest first.
        wandb_id: the W&B run id, or None when the record has no ``wandb`` block.
        wandb_mode: ``offline``, ``online`` or ``disabled`` (None when unknown).
        wandb_synced: whether an offline W&B run was uploaded.
        commit: the git commit the run's code came from, or None.
        dirty: whether the working tree had uncommitted changes.
        checkpoint: the last checkpoint, relative to the run folder, or None.
        run_dir: the run folder, relative to the runs root, or None.
        updated: when the record was last written (ISO-8601), or None.
    """

    path: Path
    run_id: str
    sweep: str
    profile: str
    label: str
    coords: Mapping[str, str]
    seed: int | None
    status: str
    metrics: Mapping[str, float | None]
    params: Mapping[str, int]
    jobs: tuple[str, ...] = ()
    wandb_id: str | None = None
    wandb_mode: str | None = None
    wandb_synced: bool = False
    commit: str | None = None
    dirty: bool = False
    checkpoint: str | None = None
    run_dir: str | None = None
    updated: str | None = None

    def value(self, key: str) -> float | None:
        """The raw value of a metric key (``bbox_mAP``) or parameter key (``params.total``).

        Returns None when the record has no such key or holds null for it.
        """
        if key.startswith("params."):
            count = self.params.get(key.removeprefix("params."))
            return None if count is None else float(count)
        return self.metrics.get(key)


def read_record(path: Path) -> Record:
    """Read and validate one ``record.json``.

    Args:
        path: the record file.

    Returns:
        The validated record.

    Raises:
        RecordError: unreadable file, invalid JSON, wrong schema or a value of the wrong type; the
            message starts with ``path`` and names the key.
    """
    try:
        raw = loads(path.read_bytes())
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"{path}: cannot read the record ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise RecordError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc
    return parse_record(raw, path)


def parse_record(raw: Any, path: Path) -> Record:
    """Validate a record already loaded from JSON (e.g. by the harness's plan).

    Raises:
        RecordError: the data breaks schema 1; the message starts with ``path``.
    """
    try:
        return _parse(raw, path)
    except _Bad as exc:
        raise RecordError(f"{path}: {exc}") from None


def iter_records(root: Path) -> Iterator[Path]:
    """Yield every ``record.json`` under ``root``, sorted by path (deterministic order)."""
    yield from sorted(root.rglob(RECORD_NAME))


class _Bad(Exception):
    """A schema violation inside one record (turned into a RecordError with the path)."""


def _parse(raw: Any, path: Path) -> Record:
    if not isinstance(raw, dict):
        raise _Bad(f"expected a JSON object, got {type(raw).__name__}")
    if raw.get("schema") != SCHEMA:
        raise _Bad(f"key 'schema' must be {SCHEMA}, got {raw.get('schema')!r}")
    status = _get(raw, "status", str)
    if status not in RECORD_STATUSES:
        raise _Bad(f"key 'status' is {status!r}; valid: {', '.join(RECORD_STATUSES)}")
    cell = _get(raw, "cell", dict)
    coords = _get(cell, "coords", dict, where="cell.")
    for axis, value in coords.items():
        if not isinstance(value, str):
            raise _Bad(f"key 'cell.coords.{axis}' must be a string, got {value!r}")
    seed = cell.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise _Bad(f"key 'cell.seed' must be an integer or null, got {seed!r}")
    attempts = _opt(raw, "attempts", list) or []
    code = _opt(raw, "code", dict) or {}
    wandb = _opt(raw, "wandb", dict) or {}
    return Record(
        path=path,
        run_id=_get(raw, "run_id", str),
        sweep=_get(raw, "sweep", str),
        profile=_get(raw, "profile", str),
        label=_get(raw, "label", str),
        coords=dict(coords),
        seed=seed,
        status=status,
        metrics=_metrics(_get(raw, "metrics", dict)),
        params=_params(_get(raw, "params", dict)),
        jobs=tuple(_job(attempt, i) for i, attempt in enumerate(attempts)),
        wandb_id=_opt(wandb, "id", str),
        wandb_mode=_opt(wandb, "mode", str),
        wandb_synced=bool(wandb.get("synced", False)),
        commit=_opt(code, "commit", str),
        dirty=bool(code.get("dirty", False)),
        checkpoint=_opt(raw, "checkpoint", str),
        run_dir=_opt(raw, "run_dir", str),
        updated=_opt(raw, "updated", str),
    )


def _get(obj: dict[str, Any], key: str, kind: type, where: str = "") -> Any:
    if key not in obj:
        raise _Bad(f"missing key '{where}{key}'")
    return _check(obj[key], key, kind, where)


def _opt(obj: dict[str, Any], key: str, kind: type, where: str = "") -> Any:
    value = obj.get(key)
    return None if value is None else _check(value, key, kind, where)


def _check(value: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(value, kind):
        raise _Bad(f"key '{where}{key}' must be {kind.__name__}, got {value!r}"[:200])
    return value


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
            raise _Bad(f"key 'metrics.{key}' must be a fraction in [0, 1] or null, got {value!r}")
        out[key] = float(value)
    return out


def _params(raw: dict[str, Any]) -> dict[str, int]:
    for key, value in raw.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _Bad(f"key 'params.{key}' must be a non-negative integer, got {value!r}")
    return dict(raw)


def _job(attempt: Any, index: int) -> str:
    if not isinstance(attempt, dict):
        raise _Bad(f"key 'attempts[{index}]' must be an object, got {attempt!r}"[:200])
    executor = attempt.get("executor") or "?"
    return f"{executor}:{attempt.get('job_id') or '?'}"
