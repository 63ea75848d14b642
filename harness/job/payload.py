"""What a job needs to run one cell: a small picklable description, built by the launcher."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.spec.model import Resources


@dataclass(frozen=True)
class JobPayload:
    """One run, as the launcher hands it to an executor.

    Args:
        sweep: the sweep's name.
        profile: the profile's name.
        label: the cell's label.
        coords: axis name -> value label.
        seed: the cell's seed or None.
        run_id: the run id the plan computed (names the folder and the W&B run).
        run_dir: the run folder (absolute).
        runs_root: the runs root (absolute).
        base: the profile's mmengine config file (absolute).
        overrides: the profile's and the cell's overrides, dotted key -> value.
        resources: what the run asked for (more than one GPU: one process per GPU).
        data_manifest: the data manifest the run id includes.
        config_digest: the config digest the run id includes.
        code_hash: the code hash the run id includes.
        search: ``{"study", "trial"}`` when a search trial asked for this run, else None.
        executor: ``debug``, ``local`` or ``slurm``.
        wandb_mode: ``offline``, ``online`` or ``disabled``.
        cwd: the launcher's working directory (relative data paths start there).
    """

    sweep: str
    profile: str
    label: str
    coords: Mapping[str, str]
    seed: int | None
    run_id: str
    run_dir: str
    runs_root: str
    base: str
    overrides: Mapping[str, Any]
    resources: Resources
    data_manifest: str
    executor: str
    config_digest: str = ""
    code_hash: str = ""
    search: Mapping[str, Any] | None = None
    wandb_mode: str = "offline"
    cwd: str = field(default_factory=lambda: str(Path.cwd()))
