"""``slurm``: one job array per distinct resource set, through submitit.

Each array task runs one run; ``--array-parallelism`` caps how many tasks of an array run at
once. Arrays are submitted held and released once submitit has put every task's pickle in
place. Jobs are named ``lors-<token>`` so the launch after one that died before journaling the
job ids finds them again with ``squeue``/``sacct`` and adopts them (``slurm_adopt``). Job state
comes from ``squeue`` (alive) only: a job absent from the queue has ended, and its record says
how.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import submitit

from harness.errors import ExecutorError
from harness.executors.base import Executor, JobState, Unit
from harness.executors.environment import job_environment
from harness.executors.slurm_adopt import adopt
from harness.executors.slurm_cli import act, command, expand, with_backoff
from harness.executors.slurm_limits import ClusterLimits, admit, read_limits, split
from harness.executors.slurm_profile import SlurmProfile
from harness.job.entry import SIGNAL_DELAY_ENV, CellJob
from harness.job.payload import JobPayload

logger = logging.getLogger(__name__)
# squeue states of a job none of whose processes run (waiting to start, or requeued and waiting)
_WAITING = ("PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "SPECIAL_EXIT", "RESV_DEL_HOLD")
# sacct states of a job that ended (any other: slurmdbd has not heard of the end yet)
_FINAL = ("BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "NODE_FAIL",
          "OUT_OF_MEMORY", "PREEMPTED", "REVOKED", "TIMEOUT")  # fmt: skip


class _ScriptWriter(submitit.SlurmExecutor):
    """submitit's SLURM executor, used only to translate parameters into sbatch options: its
    constructor refuses a machine without ``srun``, and writing a script needs no cluster."""

    @classmethod
    def affinity(cls) -> int:
        return 1


def script_parameters(folder: Path, params: dict[str, Any]) -> dict[str, Any]:
    """submitit's sbatch parameters for AutoExecutor-style ``params`` (generic names such as
    ``timeout_min``, and ``slurm_``-prefixed ones), translated as ``AutoExecutor`` does."""
    writer = _ScriptWriter(folder)
    generic = {k: v for k, v in params.items() if not k.startswith("slurm_")}
    specific = {k.removeprefix("slurm_"): v for k, v in params.items() if k.startswith("slurm_")}
    writer.update_parameters(**writer._convert_parameters(generic), **specific)
    return dict(writer.parameters)


class SlurmExecutor(Executor):
    """SLURM job arrays.

    Args:
        folder: submitit's folder.
        profile: the cluster's settings.
        array_parallelism: at most this many tasks of one array run at once.
    """

    name = "slurm"

    def __init__(self, folder: Path, profile: SlurmProfile, array_parallelism: int = 64) -> None:
        super().__init__(folder)
        self.profile = profile
        self.array_parallelism = max(1, array_parallelism)
        self._nodes_declare_memory: bool | None = None
        self._controller_answered = False
        self._limits: ClusterLimits | None = None

    def _request_memory(self) -> bool:
        if self.profile.request_memory != "auto":
            return bool(self.profile.request_memory)
        if self._nodes_declare_memory is None:
            # sinfo %m: memory per node in MB; 1 means the node declares none (RealMemory unset)
            out = command(["sinfo", "-h", "-o", "%m"]) or ""
            sizes = [int(m) for m in re.findall(r"\d+", out)]
            self._nodes_declare_memory = not sizes or max(sizes) > 1
            if not self._nodes_declare_memory:
                logger.warning("the SLURM nodes declare no memory: not asking for mem_gb")
        return self._nodes_declare_memory

    def preflight(self) -> None:
        """The controller must answer ``sinfo``: with it down, sbatch fails part-way and
        squeue/sacct cannot tell which earlier submissions reached it. Asked once per executor
        (the launcher and ``submit`` both ask)."""
        if self._controller_answered:
            return
        try:
            out = subprocess.run(
                ["sinfo", "-h", "-o", "%P"], capture_output=True, text=True, timeout=30
            )
            said = out.stderr.strip().splitlines()[-1] if out.returncode else ""
        except (OSError, subprocess.TimeoutExpired) as exc:
            said = str(exc)
        if said:
            raise ExecutorError(
                f"slurm: the SLURM controller does not answer (sinfo: {said}); start it "
                "(slurm/cluster.sh up on this machine) or choose --executor local; "
                "nothing was submitted"
            )
        self._controller_answered = True

    def units(self, payloads: Sequence[JobPayload]) -> list[Unit]:
        # Runs with the same resources are contiguous: each group becomes one array.
        order = sorted(range(len(payloads)), key=lambda i: str(payloads[i].resources))
        return [Unit((payloads[i],), payloads[i].resources) for i in order]

    def parameters(self, unit: Unit, token: str) -> dict[str, Any]:
        """submitit parameters of the array that runs ``unit`` (and its equals)."""
        r = unit.resources
        tasks = r.tasks_per_node
        params: dict[str, Any] = {
            "name": f"lors-{token}",
            "timeout_min": r.timeout_min,
            "nodes": r.nodes,
            "tasks_per_node": tasks,
            "cpus_per_task": max(1, r.cpus // tasks),
            "slurm_array_parallelism": self.array_parallelism,
            **self.profile.submitit_parameters(),
        }
        if r.gpus:
            params["gpus_per_node"] = r.gpus
        if self._request_memory():
            params["mem_gb"] = r.mem_gb
        return params

    def sbatch_script(self, unit: Unit, token: str, array_size: int) -> str:
        """The sbatch script submitit writes for an array of ``array_size`` units like ``unit``
        (the ``--dry-run`` view and the golden-file test; nothing is submitted, and no SLURM
        needs to be installed). :meth:`submit` adds ``--hold``, released at once after."""
        from submitit.slurm.slurm import _make_sbatch_string

        params = script_parameters(self.folder / "%j", self.parameters(unit, token))
        return str(
            _make_sbatch_string(
                command="<python -u -m submitit.core._submit ...>",
                folder=str(self.folder / "%j"),
                **params,
                map_count=array_size,
            )
        )

    def _arrays(self, units: Sequence[Unit]) -> list[list[Unit]]:
        """Runs of equal resources as arrays no longer than the cluster (and the profile)
        allow, read from the controller once per executor."""
        if self._limits is None:
            self._limits = read_limits(self.profile.partition)
        groups: list[list[Unit]] = []
        for unit in units:
            if groups and groups[-1][0].resources == unit.resources:
                groups[-1].append(unit)
            else:
                groups.append([unit])
        sizes = [n for n in (self._limits.max_array_size, self.profile.max_array_size) if n]
        return split(groups, min(sizes, default=None))

    def admit(self, units: Sequence[Unit]) -> None:
        """The cluster's limits (``harness.executors.slurm_limits``): the partition's MaxTime,
        room under MaxJobCount for the arrays after splitting them to MaxArraySize."""
        arrays = self._arrays(units)
        in_queue = len((command(["squeue", "-h", "-o", "%i"]) or "").split())
        admit(arrays, self._limits or ClusterLimits(), in_queue)

    def submit(self, units: Sequence[Unit], token: str) -> list[str]:
        ids: list[str] = []
        arrays: list[str] = []
        for group in self._arrays(units):
            ex = submitit.AutoExecutor(folder=self.folder / "%j", cluster="slurm")
            params = self.parameters(group[0], token)
            # Held until submitit has moved every task's pickle into place, which it does after
            # sbatch returns: a launcher killed in between leaves tasks that never ran, for the
            # next launch to release or cancel (slurm_adopt), not tasks that die at start.
            extra = params.get("slurm_additional_parameters", {})
            params["slurm_additional_parameters"] = {**extra, "hold": True}
            ex.update_parameters(**params)
            try:
                # sbatch exports the submitting environment to the job
                with job_environment({SIGNAL_DELAY_ENV: str(self.profile.signal_delay_s)}):
                    jobs = with_backoff(
                        partial(ex.map_array, CellJob(), [list(u.payloads) for u in group]),
                        f"sbatch of {len(group)} runs",
                    )
            except Exception as exc:  # submitit raises its own errors for a failed sbatch
                said = " | ".join(line.strip() for line in str(exc).splitlines() if line.strip())
                raise ExecutorError(f"slurm: sbatch failed for {len(group)} runs: {said}") from exc
            ids += [str(j.job_id) for j in jobs]
            arrays.append(ids[-1].split("_")[0])
        _cancel_strays(token, arrays)
        with_backoff(
            lambda: act(["scontrol", "release"], arrays, f"jobs {','.join(arrays)} stay held"),
            "scontrol release",
        )
        return ids

    @classmethod
    def alive(cls, job_ids: Collection[str]) -> dict[str, bool]:
        out = command(["squeue", "-h", "-r", "-o", "%i"])
        if out is None:  # cannot tell: trust the records rather than call every run failed
            return dict.fromkeys(job_ids, True)
        queued = {(a, i) for line in out.split() for a, i in expand(line)}
        plain = set(out.split())
        return {j: j in plain or any(t in queued for t in expand(j)) for j in job_ids}

    @classmethod
    def states(cls, job_ids: Collection[str]) -> dict[str, JobState]:
        """From ``squeue`` (running, pending again after a requeue) and, for jobs gone from
        the queue, ``sacct`` (how they ended; nothing without accounting)."""
        out = command(["squeue", "-h", "-r", "-o", "%i|%T"])
        if out is None:
            return dict.fromkeys(job_ids, JobState("unknown"))
        queue: dict[str, str] = {}
        for line in out.split():
            job, _, state = line.partition("|")
            queue[job] = state
            queue.update({f"{a}_{i}": state for a, i in expand(job)})
        found = {j: queue[j] for j in job_ids if j in queue}
        states = {j: JobState("pending" if s in _WAITING else "running") for j, s in found.items()}
        return {**states, **_accounted([j for j in job_ids if j not in found])}

    @classmethod
    def cancel(cls, job_ids: Collection[str]) -> None:
        if job_ids:
            command(["scancel", *job_ids])

    @classmethod
    def adopt(cls, token: str, units: Sequence[Sequence[str]], folder: Path) -> list[str | None]:
        """By the runs each found task's pickle holds; held tasks released, tasks without a
        pickle cancelled (``harness.executors.slurm_adopt``)."""
        return adopt(token, units, folder)


def _cancel_strays(token: str, arrays: Sequence[str]) -> None:
    """Cancel the submission's held jobs that are not ``arrays``: an sbatch whose answer was
    lost (the controller timed out, then took the job anyway) leaves a held job that no one
    knows by id and that has no pickle. Held, it never ran; cancelled, it never will."""
    listed = command(["squeue", "-h", f"--name=lors-{token}", "-o", "%F"])
    if listed is None:
        logger.warning("could not list the jobs named lors-%s: a job of a lost sbatch answer may "
                       "stay held (scancel it)", token)  # fmt: skip
        return
    strays = sorted(set(listed.split()) - set(arrays))
    if strays:
        logger.warning("cancelling held job(s) %s: an sbatch answer that was lost, never run",
                       ",".join(strays))  # fmt: skip
        act(["scancel"], strays, f"held jobs {','.join(strays)} stay queued (scancel them)")


def _utc(sacct_time: str) -> str | None:
    """sacct's local time (``2026-12-02T14:40:31``) as ISO-8601 UTC; None for ``Unknown``."""
    try:
        return datetime.fromisoformat(sacct_time).astimezone(UTC).isoformat(timespec="seconds")
    except ValueError:
        return None


def _accounted(job_ids: Sequence[str]) -> dict[str, JobState]:
    """How jobs that left the queue ended, from ``sacct`` (the allocation's state; the end and
    exit code of its last step); a bare ``ended`` where sacct has no answer, ``ending`` where
    it has not recorded the end yet (slurmdbd hears of it a moment after squeue)."""
    out = dict.fromkeys(job_ids, JobState("ended"))
    if not job_ids:
        return out
    fields = "JobID,State,End,ExitCode"
    # without accounting sacct fails on every call: that is expected, not worth a warning
    table = command(["sacct", "-n", "-P", "-j", ",".join(job_ids), "-o", fields], warn=False) or ""
    rows: dict[str, list[list[str]]] = {}
    for line in table.splitlines():
        cols = line.split("|")
        if len(cols) == 4:
            rows.setdefault(cols[0].split(".")[0], []).append(cols)
    for job in job_ids:
        lines = rows.get(job)
        alloc = next((c for c in lines or [] if "." not in c[0]), None)
        if not lines or alloc is None:
            continue
        if not alloc[1].startswith(_FINAL):
            out[job] = JobState("ending", state=alloc[1])
            continue
        ends = [(t, c) for c in lines if (t := _utc(c[2])) is not None]
        last = max(ends, key=lambda e: e[0]) if ends else None
        out[job] = JobState(
            "ended",
            state=alloc[1],
            end=last[0] if last else None,
            exit_code=last[1][3] if last else alloc[3],
        )
    return out
