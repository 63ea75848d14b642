"""``local``: subprocesses on this machine through submitit's local executor.

Runs are dealt round-robin into ``parallel`` lanes; by default as many as the machine's cores
hold without sharing one (cores // the runs' ``cpus``: two lanes of 1-core smoke runs on 2 cores
train at 1.9 times the pace of one 2-core run, while two 2-core runs on 2 cores slow each other
down six to nine times). A lane is one submitit job that runs its runs one after another, so
``--detach`` needs no scheduler process. A lane ignores SIGHUP and SIGINT (it keeps running when
the launcher's terminal closes or the launcher is interrupted) and writes its controller's output
to ``.submitit/lanes/``. Its processes carry ``LORS_SUBMISSION=<token>:<i>`` in their
environment: that is how a restarted launcher finds a lane it lost.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, ClassVar

import submitit

from harness.errors import ExecutorError
from harness.executors.base import Executor, Unit
from harness.executors.environment import job_environment
from harness.job.entry import SIGNAL_DELAY_ENV, CellJob
from harness.job.payload import JobPayload
from harness.spec.model import Resources

ENV_TOKEN = "LORS_SUBMISSION"
_CONTROLLER = b"submitit.local._local"


def _proc(pid: str, name: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:
        return b""


def _live_controller(pid: str) -> bool:
    stat = _proc(pid, "stat")
    if not stat or _CONTROLLER not in _proc(pid, "cmdline"):
        return False
    return stat.rsplit(b")", 1)[-1].split()[0] not in (b"Z", b"X")  # zombies are dead


def auto_lanes(payloads: Sequence[JobPayload]) -> int:
    """Lanes that fit this machine: the cores this process may use // the most ``cpus`` a run
    asks for (at least 1)."""
    cores = len(os.sched_getaffinity(0))
    return max(1, cores // max((p.resources.cpus for p in payloads), default=1))


class LocalExecutor(Executor):
    """Local lanes of runs.

    Args:
        folder: submitit's folder.
        parallel: number of lanes (concurrent runs), at least 1; None: as many as the cores
            this process may use hold without sharing (:func:`auto_lanes`).
    """

    name = "local"
    # Lanes this process started, by job id: until the lane's shell has run its setup lines and
    # exec'd submitit's controller, /proc shows no controller, yet the job is alive.
    _spawned: ClassVar[dict[str, Any]] = {}

    def __init__(self, folder: Path, parallel: int | None = None) -> None:
        super().__init__(folder)
        self.parallel = None if parallel is None else max(1, parallel)
        self._jobs: list[Any] = []

    def units(self, payloads: Sequence[JobPayload]) -> list[Unit]:
        count = self.parallel or auto_lanes(payloads)
        # a lane starts the same number of processes for each of its runs
        by_tasks: dict[int, list[JobPayload]] = {}
        for p in payloads:
            by_tasks.setdefault(p.resources.tasks_per_node, []).append(p)
        units = []
        for tasks, group in by_tasks.items():
            lanes: list[list[JobPayload]] = [[] for _ in range(min(count, len(group)))]
            for i, p in enumerate(group):
                lanes[i % len(lanes)].append(p)
            units += [
                Unit(
                    tuple(lane),
                    Resources(
                        gpus=max(p.resources.gpus for p in lane),
                        cpus=max(p.resources.cpus for p in lane),
                        mem_gb=max(p.resources.mem_gb for p in lane),
                        timeout_min=sum(p.resources.timeout_min for p in lane),
                        tasks=tasks,
                    ),
                )
                for lane in lanes
            ]
        return units

    def admit(self, units: Sequence[Unit]) -> None:
        nodes = max((p.resources.nodes for u in units for p in u.payloads), default=1)
        if nodes > 1:
            raise ExecutorError(
                f"local: runs ask for resources.nodes {nodes}, but the local executor runs on "
                "this machine only; choose --executor slurm or set nodes: 1"
            )

    def submit(self, units: Sequence[Unit], token: str) -> list[str]:
        ex = submitit.LocalExecutor(folder=self.folder / "%j")
        ids = []
        for i, unit in enumerate(units):
            delay = max(30, min(120, unit.resources.timeout_min * 6))
            log = self.folder / "lanes" / f"{token}-{i}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            ex.update_parameters(
                timeout_min=unit.resources.timeout_min,
                gpus_per_node=unit.resources.gpus,
                tasks_per_node=unit.resources.tasks_per_node,
                # the checkpoint-and-requeue signal, a tenth of the limit before it ends
                signal_delay_s=delay,
                # The lane outlives the launcher: it must not hold the launcher's output
                # (a caller reading it would wait for the lane), nor die with its terminal.
                setup=["trap '' HUP INT", f"exec </dev/null >>{shlex.quote(str(log))} 2>&1"],
            )
            # the lane's processes inherit the token (how a lost lane is found) and the delay
            with job_environment({ENV_TOKEN: f"{token}:{i}", SIGNAL_DELAY_ENV: str(delay)}):
                job = ex.submit(CellJob(), list(unit.payloads))
            self._jobs.append(job)
            ids.append(str(job.job_id))
            LocalExecutor._spawned[str(job.job_id)] = getattr(job, "_process", None)
        return ids

    def wait(self) -> None:
        self._jobs = [j for j in self._jobs if j._process is not None and j._process.poll() is None]

    @classmethod
    def alive(cls, job_ids: Collection[str]) -> dict[str, bool]:
        return {j: _started_here(j) or (j.isdigit() and _live_controller(j)) for j in job_ids}

    @classmethod
    def cancel(cls, job_ids: Collection[str]) -> None:
        """SIGKILL each lane and every process under it (a stopped process too)."""
        lanes = {j for j in job_ids if j.isdigit()}
        parent = {pid: _ppid(pid) for pid in os.listdir("/proc") if pid.isdigit()}
        for pid in parent:
            chain, seen = pid, set()
            while chain and chain not in lanes and chain not in seen and chain != "1":
                seen.add(chain)
                chain = parent.get(chain, "")
            if chain in lanes:
                with contextlib.suppress(OSError):  # it ended meanwhile
                    os.kill(int(pid), signal.SIGKILL)

    @classmethod
    def adopt(cls, token: str, units: Sequence[Sequence[str]], folder: Path) -> list[str | None]:
        """By the lane index in each lane's environment (``<token>:<i>``: unit ``i``); a lane
        runs as soon as it starts, so there is nothing to release or cancel."""
        n_units = len(units)
        lanes: dict[int, set[str]] = {}
        prefix = f"{ENV_TOKEN}={token}:".encode()
        for pid in (d for d in os.listdir("/proc") if d.isdigit()):
            for var in _proc(pid, "environ").split(b"\0"):
                if var.startswith(prefix) and _live_controller(pid):
                    lanes.setdefault(int(var[len(prefix) :]), set()).add(pid)
        found: list[str | None] = [None] * n_units
        for lane, pids in lanes.items():
            # the lane's shell, controller and tasks all carry the token: the job is the top one
            top = [p for p in pids if _ppid(p) not in pids]
            if lane < n_units and top:
                found[lane] = top[0]
        return found


def _started_here(job_id: str) -> bool:
    """Whether this process started the lane and it has not exited (reaped or not)."""
    process = LocalExecutor._spawned.get(job_id)
    return process is not None and process.poll() is None


def _ppid(pid: str) -> str:
    stat = _proc(pid, "stat")
    return stat.rsplit(b")", 1)[-1].split()[1].decode() if stat else ""
