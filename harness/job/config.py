"""The config a job trains: the planned config plus what only the run needs (excluded from the
run id): its folder, resume, launcher, unique logger/visualizer names and tracker backends."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from harness.identity import identify
from harness.job.payload import JobPayload
from harness.spec.config import apply_overrides, load_config
from harness.trackers.base import Tracker

logger = logging.getLogger(__name__)


def planned_config(p: JobPayload) -> dict[str, Any]:
    """The cell's resolved config, built exactly as the plan built it; a run id that differs
    from the planned one (code or config changed since the plan) is logged, not fatal."""
    cfg = apply_overrides(load_config(p.base), p.overrides)
    now = identify(cfg, p.data_manifest).run_id
    if now != p.run_id:
        logger.warning(
            "run %s: the config or code changed since the plan (it would now be %s); "
            "the run keeps its planned id",
            p.run_id,
            now,
        )
    return cfg


def runtime_config(p: JobPayload, tracker: Tracker, launcher: str) -> dict[str, Any]:
    """The planned config plus the run's own settings, as a plain dict."""
    cfg = planned_config(p)
    run_dir = Path(p.run_dir)
    name = f"{p.run_id}-{time.strftime('%Y%m%d_%H%M%S')}-{int(time.time() * 1000) % 1000:03d}"
    visualizer = dict(cfg.get("visualizer") or {"type": "Visualizer"})
    backends = list(visualizer.get("vis_backends") or cfg.get("vis_backends") or [])
    visualizer.update(name=name, vis_backends=backends + tracker.vis_backends(p))
    hooks = dict(cfg.get("default_hooks") or {})
    if not hooks.get("checkpoint"):
        by_epoch = bool((cfg.get("train_cfg") or {}).get("by_epoch", True))
        hooks["checkpoint"] = {"type": "CheckpointHook", "interval": 1, "by_epoch": by_epoch}
    hooks["checkpoint"] = {**hooks["checkpoint"], "save_last": True}
    extra: dict[str, Any] = {}
    if launcher != "none" and p.resources.gpus == 0 and not cfg.get("model_wrapper_cfg"):
        # mmengine passes device_ids=[LOCAL_RANK] unless the config names them, and DDP refuses
        # any for a model on the CPU
        extra["model_wrapper_cfg"] = {
            "type": "MMDistributedDataParallel",
            "device_ids": None,
            "broadcast_buffers": False,
            "find_unused_parameters": bool(cfg.get("find_unused_parameters", False)),
        }
    return {
        **cfg,
        **extra,
        "work_dir": str(run_dir),
        "resume": (run_dir / "last_checkpoint").is_file(),
        "launcher": launcher,
        "experiment_name": name,
        "visualizer": visualizer,
        "default_hooks": hooks,
    }
