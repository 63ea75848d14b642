"""Read and write ``record.json`` files: atomic writes, tolerant reads, a sweep folder scan."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import RecordError
from harness.layout import parse_run_folder
from harness.records.schema import RECORD_NAME


def now_iso() -> str:
    """The current time, ISO-8601 in UTC."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_record(path: Path) -> dict[str, Any] | None:
    """The record at ``path``, or None when there is none.

    Raises:
        RecordError: the file exists but is not a JSON object.
    """
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise RecordError(f"{path}: a record must be a JSON object, got {type(data).__name__}")
    return data


def write_record(path: Path, record: Mapping[str, Any]) -> None:
    """Write a record atomically: a temp file in the same folder, fsync, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = _finite(dict(record))
    body["updated"] = now_iso()
    fd, tmp = tempfile.mkstemp(prefix=".record-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(body, fh, indent=1, sort_keys=False, default=str, allow_nan=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _finite(value: Any) -> Any:
    """NaN and infinities become null: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def scan_sweep(sweep: Path) -> dict[str, dict[str, Path]]:
    """Label slug -> {run id -> run folder} of the run folders under a sweep folder."""
    out: dict[str, dict[str, Path]] = {}
    try:
        entries = list(os.scandir(sweep))
    except FileNotFoundError:
        return out
    for entry in entries:
        parsed = parse_run_folder(entry.name)
        if parsed and entry.is_dir():
            out.setdefault(parsed[0], {})[parsed[1]] = Path(entry.path)
    return out


def record_path(run_dir: Path) -> Path:
    """The record file of a run folder."""
    return run_dir / RECORD_NAME
