"""Where things live under the runs root: one folder per sweep and profile, one per run.

::

    <runs root>/<sweep>/<profile>/
        <label>-<run id>/          record.json, checkpoints, logs, wandb/
        .journal.jsonl             submissions, written before each one (crash safety)
        .lock                      serialises two launches of the same sweep and profile
        .submitit/                 submitit's pickles and job logs

The runs root is ``runs/`` unless ``--runs-dir`` or ``LORS_RUNS_DIR`` says otherwise.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from harness.spec.expand import label_slug

RUNS_ENV = "LORS_RUNS_DIR"
_RUN_FOLDER = re.compile(r"^(?P<slug>.+)-(?P<run_id>[0-9a-f]{12})$")


def runs_root(flag: str | Path | None = None) -> Path:
    """The runs root: the flag, else ``$LORS_RUNS_DIR``, else ``runs``."""
    return Path(flag or os.environ.get(RUNS_ENV) or "runs")


def sweep_dir(root: Path, sweep: str, profile: str) -> Path:
    """The folder of a sweep in one profile."""
    return root / sweep / profile


def run_folder_name(label: str, run_id: str) -> str:
    """``<label slug>-<run id>``."""
    return f"{label_slug(label)}-{run_id}"


def parse_run_folder(name: str) -> tuple[str, str] | None:
    """``(label slug, run id)`` of a run folder's name, or None when it is not one."""
    m = _RUN_FOLDER.match(name)
    return (m["slug"], m["run_id"]) if m else None


def journal_path(sweep: Path) -> Path:
    """The submission journal of a sweep folder."""
    return sweep / ".journal.jsonl"


def lock_path(sweep: Path) -> Path:
    """The launch lock of a sweep folder."""
    return sweep / ".lock"


def submitit_dir(sweep: Path) -> Path:
    """submitit's folder (pickled jobs, stdout/stderr) of a sweep folder."""
    return sweep / ".submitit"
