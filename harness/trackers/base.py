"""The tracker contract and its two implementations: W&B (offline or online) and disabled."""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from harness.errors import HarnessError
from harness.job.payload import JobPayload
from harness.records.schema import WANDB_MODES

logger = logging.getLogger(__name__)

TRACKER_MODES = WANDB_MODES
BACKEND_TYPE = "HarnessWandbVisBackend"


class Tracker(ABC):
    """Mirrors one run to a tracker. The record stays the source of truth."""

    mode: ClassVar[str]

    @abstractmethod
    def vis_backends(self, payload: JobPayload) -> list[dict[str, Any]]:
        """mmengine visualisation backend configs to add to the run's visualizer."""

    @abstractmethod
    def record_block(self, payload: JobPayload) -> dict[str, Any]:
        """The record's ``wandb`` block: ``id``, ``mode``, ``dir``, ``synced``."""

    def summary(self, runner: Any, values: Mapping[str, Any]) -> None:  # noqa: B027 (optional)
        """Mirror summary values (parameter counts, final metrics); nothing by default."""

    def lost(self, runner: Any) -> str | None:
        """Why the tracker stopped taking data during this run (its calls are skipped from
        then on and the run goes on), or None while it works; never for the disabled one."""
        return None


class DisabledTracker(Tracker):
    """No tracker: the run is only in its record."""

    mode = "disabled"

    def vis_backends(self, payload: JobPayload) -> list[dict[str, Any]]:
        return []

    def record_block(self, payload: JobPayload) -> dict[str, Any]:
        return {"id": payload.run_id, "mode": self.mode, "dir": None, "synced": False}


def _search_tags(payload: JobPayload) -> list[str]:
    """``study:<name>`` and ``trial:<n>`` for a run a search trial asked for."""
    if payload.search is None:
        return []
    return [f"study:{payload.search.get('study')}", f"trial:{payload.search.get('trial')}"]


class WandbTracker(Tracker):
    """W&B through mmengine's visualizer; W&B run id = run id, ``resume="allow"``, so every
    attempt continues the same W&B run. Files go to ``<run folder>/wandb``.

    The project is ``lors-<sweep>`` unless ``$WANDB_PROJECT`` names one: run ids are content
    hashes, so the same config in two sweeps (the release setting is a row of several tables)
    has the same id, and one shared project would merge those two trainings into one W&B run.

    Args:
        mode: ``offline`` (default; upload later with ``python -m harness.sync``) or ``online``.
        project: the W&B project (default: see above).
    """

    def __init__(self, mode: str = "offline", project: str | None = None) -> None:
        self.mode = mode  # type: ignore[misc]
        self.project = project or os.environ.get("WANDB_PROJECT")

    def vis_backends(self, payload: JobPayload) -> list[dict[str, Any]]:
        init_kwargs = {
            "id": payload.run_id,
            "resume": "allow",
            "mode": self.mode,
            "dir": payload.run_dir,
            "project": self.project or f"lors-{payload.sweep}",
            "name": f"{payload.sweep}/{payload.label}",
            "group": f"{payload.sweep}/{payload.profile}",
            "job_type": payload.profile,
            "tags": [payload.sweep, payload.profile, *_search_tags(payload)],
            "config": {
                "harness": {
                    "sweep": payload.sweep,
                    "profile": payload.profile,
                    "label": payload.label,
                    "coords": dict(payload.coords),
                    "seed": payload.seed,
                    "run_id": payload.run_id,
                    "data_manifest": payload.data_manifest,
                }
            },
        }
        return [{"type": BACKEND_TYPE, "save_dir": payload.run_dir, "init_kwargs": init_kwargs}]

    def record_block(self, payload: JobPayload) -> dict[str, Any]:
        return {"id": payload.run_id, "mode": self.mode, "dir": "wandb", "synced": False}

    def summary(self, runner: Any, values: Mapping[str, Any]) -> None:
        backend = runner.visualizer.get_backend(BACKEND_TYPE)
        if backend is not None:
            backend.add_summary(dict(values))

    def lost(self, runner: Any) -> str | None:
        backend = runner.visualizer.get_backend(BACKEND_TYPE)
        return None if backend is None else backend.lost


def make_tracker(mode: str) -> Tracker:
    """The tracker of a ``--wandb`` mode.

    Raises:
        HarnessError: unknown mode; lists the valid ones.
    """
    if mode == "disabled":
        return DisabledTracker()
    if mode in ("offline", "online"):
        return WandbTracker(mode)
    raise HarnessError(f"--wandb {mode!r} is not a W&B mode; valid modes: {list(TRACKER_MODES)}")
