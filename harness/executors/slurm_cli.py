"""SLURM's command-line clients as the SLURM executor calls them, and the job ids they print."""

from __future__ import annotations

import logging
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from harness.errors import ExecutorError

logger = logging.getLogger(__name__)
_ARRAY = re.compile(r"^(\d+)_(\d+|\[[^\]]*\])$")
T = TypeVar("T")

# What SLURM's clients say when the controller is busy or briefly away (sbatch's answer after
# MessageTimeout, 10 s by default), as opposed to a refusal that a second try would repeat.
TRANSIENT = re.compile(
    r"Socket timed out|Unable to contact slurm controller|temporarily unable|"
    r"Zero Bytes were transmitted|Connection refused|Resource temporarily unavailable",
    re.IGNORECASE,
)
#: Seconds between tries of a call the controller did not answer: four tries in about a minute.
BACKOFF_S = (5.0, 15.0, 30.0)


def with_backoff(call: Callable[[], T], what: str, backoff: Sequence[float] = BACKOFF_S) -> T:
    """``call()``, tried again after each of ``backoff`` seconds while what it raises says the
    controller did not answer (:data:`TRANSIENT`); any other error at once."""
    for tries, delay in enumerate((*backoff, None), start=1):
        try:
            return call()
        except Exception as exc:
            said = next(
                (line.strip() for line in str(exc).splitlines() if TRANSIENT.search(line)), ""
            )
            if delay is None or not said:
                raise
            logger.warning(
                "%s: the SLURM controller did not answer (%s); again in %.0f s (try %d of %d)",
                what, said, delay, tries + 1, len(backoff) + 1,
            )  # fmt: skip
            time.sleep(delay)
    raise AssertionError("unreachable")


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
