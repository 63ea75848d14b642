"""SLURM's command-line clients as the SLURM executor calls them, and the job ids they print."""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Sequence

from harness.errors import ExecutorError

logger = logging.getLogger(__name__)
_ARRAY = re.compile(r"^(\d+)_(\d+|\[[^\]]*\])$")


def command(cmd: list[str], warn: bool = True) -> str | None:
    """The command's stdout, or None when it failed (logged as a warning when ``warn``)."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        if warn:
            logger.warning("%s failed: %s", cmd[0], exc)
        return None
    if out.returncode != 0:
        if warn:
            logger.warning("%s failed: %s", " ".join(cmd), out.stderr.strip())
        return None
    return out.stdout


def act(cmd: list[str], jobs: Sequence[str], why: str) -> None:
    """Run ``cmd`` on ``jobs`` (``scontrol release``, ``scancel``); nothing when there are none.

    Raises:
        ExecutorError: the command failed (its stderr, and what was left undone).
    """
    if not jobs:
        return
    full = [*cmd, ",".join(jobs)]
    try:
        out = subprocess.run(full, capture_output=True, text=True, timeout=60, check=False)
        said = out.stderr.strip().replace("\n", " | ") if out.returncode else ""
    except (OSError, subprocess.TimeoutExpired) as exc:
        said = str(exc)
    if said:
        raise ExecutorError(
            f"slurm: {' '.join(cmd)} {','.join(jobs)} failed ({said}), so {why}; "
            "launch again when the controller answers"
        )


def expand(job_id: str) -> list[tuple[int, int]]:
    """``"12_3"`` -> [(12, 3)]; ``"12_[0-2,5%4]"`` -> [(12, 0), (12, 1), (12, 2), (12, 5)]."""
    m = _ARRAY.match(job_id.strip())
    if not m:
        return []
    array, tasks = int(m[1]), m[2]
    if not tasks.startswith("["):
        return [(array, int(tasks))]
    out = []
    for part in tasks.strip("[]").split("%")[0].split(","):
        lo, _, hi = part.partition("-")
        out += [(array, i) for i in range(int(lo), int(hi or lo) + 1)]
    return out


def job_ids(listed: str) -> list[str]:
    """Every job in squeue's or sacct's job id column, oldest first: ``A_i`` per array task (a
    range ``A_[0-2]`` expanded), ``A`` for a job that is no array (an array of one run)."""
    found: set[tuple[int, int]] = set()
    for word in listed.split():
        if word.isdigit():
            found.add((int(word), -1))
        found.update(expand(word))
    return [f"{a}_{i}" if i >= 0 else str(a) for a, i in sorted(found)]
