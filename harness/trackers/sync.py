"""Upload offline W&B runs (``wandb sync``) and note in each record what was uploaded."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import RecordError
from harness.records.closing import mark_synced
from harness.records.record import read_run_record

logger = logging.getLogger(__name__)
Upload = Callable[[list[Path]], tuple[bool, str]]


@dataclass(frozen=True)
class SyncItem:
    """One record with offline W&B runs not yet uploaded."""

    record: Path
    label: str
    run_id: str
    dirs: tuple[Path, ...]


def pending_syncs(records: Iterable[Path]) -> list[SyncItem]:
    """The records whose run ended, ran W&B offline, and has offline runs not yet uploaded
    (a record that cannot be read is skipped with a warning: nothing of it can be trusted)."""
    items = []
    for path in records:
        try:
            rec = read_run_record(path)
        except RecordError as exc:
            logger.warning("%s", exc)
            continue
        ended = rec is not None and rec.status in ("done", "failed", "pruned")
        if rec is None or not ended or rec.wandb_mode != "offline":
            continue
        done = set(rec.synced_dirs)
        dirs = [
            d for d in sorted((path.parent / "wandb").glob("offline-run-*")) if d.name not in done
        ]
        if dirs:
            items.append(SyncItem(path, rec.label, rec.run_id, tuple(dirs)))
    return items


def wandb_sync(dirs: list[Path]) -> tuple[bool, str]:
    """``wandb sync DIR...`` with the W&B of this interpreter; ``(ok, last line of output)``."""
    exe = Path(sys.executable).with_name("wandb")
    cmd = [str(exe) if exe.exists() else "wandb", "sync", *map(str, dirs)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    text = (out.stdout + out.stderr).strip().splitlines()
    return out.returncode == 0, text[-1] if text else ""


def sync(
    items: Iterable[SyncItem], upload: Upload = wandb_sync
) -> list[tuple[SyncItem, bool, str]]:
    """Upload each item; a success marks its record ``synced`` and lists the uploaded folders."""
    results = []
    for item in items:
        ok, message = upload(list(item.dirs))
        if ok:
            mark_synced(item.record, [d.name for d in item.dirs])
        results.append((item, ok, message))
    return results
