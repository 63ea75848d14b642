"""Fabricated run records (docs/record.md, schema 1 or 2), for the analysis tests and benchmark.

The values are chosen by the caller; nothing here pretends to be a measured result.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from analysis.layout import CellState
from harness.records.record import read_run_record
from harness.records.schema import METRIC_KEYS


def run_id_of(label: str, salt: str = "") -> str:
    """A stable 12-hex run id for a label (the harness hashes configs; any hash will do here)."""
    return hashlib.sha256(f"{label}|{salt}".encode()).hexdigest()[:12]


def make_label(coords: Mapping[str, str], seed: int | None) -> str:
    """``K=2,r=16,seed=0``-style label."""
    parts = [f"{k}={v}" for k, v in coords.items()]
    if seed is not None:
        parts.append(f"seed={seed}")
    return ",".join(parts)


def record_dict(
    coords: Mapping[str, str],
    seed: int | None,
    *,
    status: str = "done",
    ap: float | None = 0.4,
    params: Mapping[str, int] | None = None,
    sweep: str = "demo",
    profile: str = "paper",
    salt: str = "",
    commit: str = "0123456789abcdef0123456789abcdef01234567",
    label: str | None = None,
    config_size: int = 0,
    run_id: str | None = None,
    run_dir: str | None = None,
    schema: int = 1,
    identity: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A complete record; ``ap`` sets bbox_mAP and the others follow from it. Schema 2 adds the
    ``identity`` block (given, or made up to match nothing)."""
    label = label or make_label(coords, seed)
    run_id = run_id or run_id_of(label, salt)
    metrics: dict[str, float | None] = {}
    if status == "done":
        metrics = {
            k: (None if ap is None else round(min(1.0, ap * f), 4))
            for k, f in zip(METRIC_KEYS, (1.0, 1.45, 1.08, 0.6, 1.1, 1.35), strict=True)
        }
    extra: dict[str, Any] = {}
    if schema >= 2:
        extra["identity"] = dict(
            identity or {"config": "f" * 32, "data": "d" * 16, "code": "e" * 16}
        )
    return {
        **extra,
        "schema": schema,
        "sweep": sweep,
        "profile": profile,
        "label": label,
        "cell": {"coords": dict(coords), "seed": seed},
        "run_id": run_id,
        "status": status,
        "config": {"model": {"roi_head": {"pad": "x" * config_size}}},
        "overrides": {},
        "data_manifest": "d" * 16,
        "code": {"commit": commit, "dirty": False, "diff_hash": None},
        "versions": {"python": "3.11", "lors-harness": "0.1.0"},
        "params": dict(params or {"total": 110_000_000, "roi_head": 30_000_000}),
        "metrics": metrics,
        "history": [],
        "attempts": [
            {
                "executor": "slurm",
                "job_id": f"{int(run_id[:6], 16)}_0",
                "node": "n1",
                "start": "2024-01-01T00:00:00Z",
                "end": "2024-01-01T01:00:00Z",
                "exit": "completed" if status == "done" else None,
                "resumed_from_iter": 0,
            }
        ],
        "wall_time_s": 3600.0,
        "run_dir": run_dir or f"{sweep}/{profile}/{label}-{run_id}",
        "checkpoint": "epoch_12.pth" if status == "done" else None,
        "wandb": {"id": run_id, "mode": "offline", "dir": "wandb", "synced": False},
        "error_tail": "CUDA out of memory" if status == "failed" else None,
        "created": "2024-01-01T00:00:00Z",
        "updated": "2024-01-01T01:00:00Z",
    }


def write_record(root: Path, record: Mapping[str, Any]) -> Path:
    """Write a record where the harness would: ``<root>/<run_dir>/record.json``."""
    path = root / str(record["run_dir"]) / "record.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return path


def cell_state(
    root: Path, record: Mapping[str, Any], status: str | None = None, run_id: str | None = None
) -> CellState:
    """Write ``record`` and return the cell state a plan would give for it (``run_id``: the id
    the plan expects, when it differs from the record's, as for a stale cell)."""
    path = write_record(root, record)
    return CellState(
        label=str(record["label"]),
        coords=dict(record["cell"]["coords"]),
        seed=record["cell"]["seed"],
        status=status or str(record["status"]),
        run_id=run_id or str(record["run_id"]),
        record=read_run_record(path),
    )


def missing_state(coords: Mapping[str, str], seed: int | None, salt: str = "") -> CellState:
    """A cell the plan calls ``new``: no record yet."""
    label = make_label(coords, seed)
    return CellState(label, dict(coords), seed, "new", run_id_of(label, salt))
