"""The cluster's own limits, read before anything is submitted: ``scontrol show config``
(``MaxArraySize``, ``MaxJobCount``) and the partition's ``MaxTime``.

sbatch refuses an array beyond ``MaxArraySize`` and a job whose time limit exceeds the
partition's (or leaves it pending forever with ``PartitionTimeLimit``); a controller at
``MaxJobCount`` refuses every job. Each refusal would come after the launch had journaled its
submission, part-way through its arrays. So arrays are split to fit, and what cannot fit is
refused in one line before the first sbatch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.errors import ExecutorError
from harness.executors.base import Unit
from harness.executors.slurm_cli import command


@dataclass(frozen=True)
class ClusterLimits:
    """What the controller accepts; None where it sets no limit (or could not be read).

    Attributes:
        max_array_size: tasks per array (SLURM's indices run 0 .. MaxArraySize - 1).
        max_job_count: job records the controller holds at once (a pending array is one).
        partition: the partition the jobs go to (the profile's, else the default one).
        max_time_min: that partition's ``MaxTime`` in minutes.
    """

    max_array_size: int | None = None
    max_job_count: int | None = None
    partition: str | None = None
    max_time_min: int | None = None


def time_minutes(value: str) -> int | None:
    """SLURM's time (``1-00:00:00``, ``2-12``, ``04:00:00``, ``30:00``, ``60``) in whole minutes,
    seconds dropped; None for ``UNLIMITED``/``INFINITE`` or anything else."""
    days, dash, rest = value.strip().rpartition("-")
    parts = rest.split(":")
    if (dash and not days.isdigit()) or len(parts) > 3 or not all(p.isdigit() for p in parts):
        return None
    numbers = [int(p) for p in parts]
    if dash:  # days-hours[:minutes[:seconds]]
        hours, minutes = numbers[0], numbers[1] if len(numbers) > 1 else 0
    elif len(numbers) == 3:  # hours:minutes:seconds
        hours, minutes = numbers[0], numbers[1]
    else:  # minutes[:seconds]
        hours, minutes = 0, numbers[0]
    return int(days or 0) * 1440 + hours * 60 + minutes


def fields(text: str) -> dict[str, str]:
    """``Key = value`` lines (``scontrol show config``) and ``Key=value`` words (``scontrol -o
    show partition``) as a mapping."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, eq, value = line.partition(" = ")
        if eq:
            out[key.strip()] = value.strip()
            continue
        for word in line.split():
            k, eq, v = word.partition("=")
            if eq:
                out[k] = v
    return out


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and int(value) > 0 else None


def read_limits(partition: str | None) -> ClusterLimits:
    """The running controller's limits for jobs sent to ``partition`` (None: the default)."""
    config = fields(command(["scontrol", "show", "config"]) or "")
    parts = (command(["scontrol", "-o", "show", "partition"]) or "").splitlines()
    chosen = None
    for line in parts:
        f = fields(line)
        if f.get("PartitionName") == partition or (partition is None and f.get("Default") == "YES"):
            chosen = f
    return ClusterLimits(
        max_array_size=_int(config.get("MaxArraySize")),
        max_job_count=_int(config.get("MaxJobCount")),
        partition=chosen.get("PartitionName") if chosen else partition,
        max_time_min=time_minutes(chosen.get("MaxTime", "")) if chosen else None,
    )


def split(groups: Sequence[Sequence[Unit]], max_size: int | None) -> list[list[Unit]]:
    """Each group of equal units as arrays of at most ``max_size`` tasks, in order."""
    size = max_size or max((len(g) for g in groups), default=1)
    return [list(g[i : i + size]) for g in groups for i in range(0, len(g), size)]


def admit(arrays: Sequence[Sequence[Unit]], limits: ClusterLimits, in_queue: int) -> None:
    """Raise unless the controller would take every array.

    Args:
        arrays: the arrays about to be submitted (after :func:`split`).
        limits: the controller's limits.
        in_queue: job records it holds now (``squeue`` lines, a pending array as one).

    Raises:
        ExecutorError: one line naming the limit, the value asked for and what to change.
    """
    longest = max((u.resources.timeout_min for a in arrays for u in a), default=0)
    if limits.max_time_min is not None and longest > limits.max_time_min:
        raise ExecutorError(
            f"slurm: runs ask for resources.timeout_min {longest} but partition "
            f"{limits.partition} allows at most {limits.max_time_min} (scontrol show partition: "
            "MaxTime); lower timeout_min in the spec's profile or choose a partition in the "
            "--slurm-profile; nothing was submitted"
        )
    room = None if limits.max_job_count is None else limits.max_job_count - in_queue
    if room is not None and len(arrays) > room:
        raise ExecutorError(
            f"slurm: {len(arrays)} arrays to submit but the controller holds {in_queue} of "
            f"its MaxJobCount {limits.max_job_count} jobs (scontrol show config); wait for "
            "jobs to leave the queue or submit fewer runs (--limit); nothing was submitted"
        )
