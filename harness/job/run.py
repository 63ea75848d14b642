"""``run_cell``: train and evaluate one cell with mmengine in its run folder, keeping its record.

Steps: open an attempt in the record (``running``), with a heartbeat thread that keeps it current
and notes SLURM's SIGTERM (``harness.job.heartbeat``); build the config (``harness.job.config``);
build the runner the config asks for (``lors.engine.build_runner``: checks the data, resumes the
project's checkpoints); train (the Runner resumes from ``last_checkpoint`` when an earlier
attempt left one); evaluate at the end when training had nothing left to do; close the attempt
(``completed`` -> ``done``, an exception -> ``failed`` with the error tail). Only rank 0 writes.
A training failure is recorded, not raised: the record is the result, and submitit's debug
executor would open a debugger on an exception.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import sys
import traceback
from pathlib import Path
from typing import Any

from harness.identity import code_version, identify
from harness.job.heartbeat import Heartbeat, noting_sigterm
from harness.job.payload import JobPayload
from harness.job.peers import PeerWatch
from harness.records.store import last_checkpoint, record_path
from harness.records.writer import RecordWriter
from harness.trackers.base import Tracker, make_tracker

logger = logging.getLogger(__name__)
TAIL_LINES = 30
_CURRENT: RecordWriter | None = None


def interrupt_current(cause: str) -> None:
    """Close the attempt running in this process as ``timeout`` or ``preempted`` (called from
    submitit's checkpoint, just before the job is requeued)."""
    if _CURRENT is not None and _CURRENT.attempt_open:
        _CURRENT.finish(cause, checkpoint=last_checkpoint(_CURRENT.path.parent))


@functools.cache  # a local lane or the debug executor runs many cells in one process
def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for pkg in ("torch", "mmcv", "mmengine", "mmdet", "numpy", "submitit", "wandb", "lors-harness"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "absent"
    return out


def _job_identity(executor: str) -> tuple[str, str]:
    import submitit

    try:
        env = submitit.JobEnvironment()
        return str(env.job_id), str(env.hostname)
    except RuntimeError:  # called outside submitit (a direct call in a test or a script)
        return f"pid{os.getpid()}", socket.gethostname()


def _error_tail(run_dir: Path, exc: BaseException) -> str:
    text = "".join(traceback.format_exception(exc, chain=False))
    lines = text.rstrip().splitlines()[-TAIL_LINES:]
    logs = sorted(run_dir.glob("*/*.log"), key=lambda p: p.stat().st_mtime)
    if logs:
        log_lines = logs[-1].read_text(errors="replace").rstrip().splitlines()[-TAIL_LINES:]
        lines = [f"--- {logs[-1].relative_to(run_dir)} (last lines)", *log_lines, "---", *lines]
    return "\n".join(lines)


def _identity(p: JobPayload) -> dict[str, str]:
    """The parts the planned run id hashes (the payload's; a payload from an older launcher
    lacks two, which this process works out as the plan would have)."""
    if p.config_digest and p.code_hash:
        return {"config": p.config_digest, "data": p.data_manifest, "code": p.code_hash}
    from harness.job.config import planned_config

    return identify(planned_config(p), p.data_manifest).as_record()


def _writer(p: JobPayload, tracker: Tracker, run_dir: Path) -> RecordWriter:
    fields = {
        "sweep": p.sweep,
        "profile": p.profile,
        "label": p.label,
        "cell": {"coords": dict(p.coords), "seed": p.seed},
        "run_id": p.run_id,
        "identity": _identity(p),
        "overrides": dict(p.overrides),
        "data_manifest": p.data_manifest,
        "code": code_version().as_record(),
        "versions": dict(_versions()),
        "run_dir": str(run_dir.relative_to(Path(p.runs_root))),
        "wandb": tracker.record_block(p),
    }
    if p.search is not None:  # the record names the trial; how it prunes stays in the payload
        fields["search"] = {k: p.search[k] for k in ("study", "trial") if k in p.search}
    return RecordWriter(record_path(run_dir), fields)


def _build_runner(cfg_dict: dict[str, Any]) -> Any:
    from mmengine.config import Config
    from mmengine.utils import import_modules_from_strings

    import harness.trackers.wandb_backend  # noqa: F401  (registers the W&B backend)

    imports = cfg_dict.get("custom_imports")
    if imports:
        import_modules_from_strings(**imports)
    cfg = Config(cfg_dict)
    try:
        from lors.engine import build_runner
    except ImportError:  # lors.engine needs only mmengine; this guards a partial install
        from mmengine.registry import RUNNERS
        from mmengine.runner import Runner

        return RUNNERS.build(cfg) if cfg.get("runner_type") else Runner.from_cfg(cfg)
    return build_runner(cfg)


def _limit_threads(p: JobPayload) -> None:
    """Use the CPUs the cell asked for, not every core of the node: jobs that share a node
    (SLURM array tasks, local lanes) otherwise oversubscribe it: smoke runs on a loaded 2-core
    machine took 2.4-6 s per iteration with 2 threads each, 0.4 s with one."""
    if p.resources.gpus == 0 and p.resources.cpus > 0:
        import torch

        torch.set_num_threads(p.resources.cpus)
        os.environ["OMP_NUM_THREADS"] = str(p.resources.cpus)


def _prune_hook(p: JobPayload, writer: RecordWriter | None) -> Any:
    """The hook that reports to a pruned study's trial, when the payload asks for one."""
    if p.search is None or not p.search.get("prune"):
        return None
    from harness.job.prune import PruneHook

    return PruneHook(writer, p.search)


def _init_distributed(p: JobPayload) -> None:
    """``torch.distributed`` for this process of the job: the environment from submitit (the
    master's port derived from the job id), NCCL with GPUs, gloo on CPU. The CPU group is made
    here because mmengine's own ``init_dist`` sets a CUDA device first."""
    import submitit

    # every process sees all GPUs of the node; mmengine picks cuda:LOCAL_RANK
    submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
    if p.resources.gpus == 0:
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("gloo")


def run_cell(p: JobPayload) -> str:
    """Train and evaluate one cell; returns the run's status (``done``, ``failed``, ``pruned``,
    ``queued`` when the attempt closed for a requeue)."""
    global _CURRENT
    os.chdir(p.cwd)
    _limit_threads(p)
    run_dir = Path(p.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    launcher = "none"
    if p.resources.processes > 1:
        _init_distributed(p)
        launcher = "pytorch"
    rank = int(os.environ.get("RANK", "0"))
    world = int(os.environ.get("WORLD_SIZE", "1"))
    job_id, node = _job_identity(p.executor)
    tracker = make_tracker(p.wandb_mode)
    writer = _writer(p, tracker, run_dir) if rank == 0 else None
    if writer is None:
        with PeerWatch(run_dir, rank, world, job_id, None) as peers:
            peers.leave("done" if _train(p, tracker, launcher, None) else "failed")
        return "done"
    if writer.status == "done":
        logger.info("run %s is done already; skipping it", p.run_id)
        return "done"
    writer.start_attempt(p.executor, job_id, node, os.getpid(), processes=world)
    from harness.job.failure import too_often_requeued

    capped = too_often_requeued(writer.record["attempts"][:-1])
    if capped:
        logger.error("run %s: %s", p.run_id, capped)
        writer.finish("failed", error_tail=capped, failure="requeues")
        return writer.status
    _CURRENT = writer
    try:
        with (
            Heartbeat(writer) as beat,
            noting_sigterm(writer, beat),
            PeerWatch(run_dir, rank, world, job_id, writer) as peers,
        ):
            peers.leave("done" if _train(p, tracker, launcher, writer) else "failed")
    finally:
        _CURRENT = None
    return writer.status


def _train(p: JobPayload, tracker: Tracker, launcher: str, writer: RecordWriter | None) -> bool:
    """Build the runner, train, evaluate when needed, close the attempt (rank 0: ``writer``);
    False when it raised (logged, and recorded by rank 0)."""
    run_dir = Path(p.run_dir)
    runner = None
    try:
        from harness.job.config import runtime_config
        from harness.job.hook import RecordHook

        cfg = runtime_config(p, tracker, launcher)
        if writer is not None:
            writer.set_config(cfg)
        runner = _build_runner(cfg)
        hook = RecordHook(writer, tracker)
        runner.register_hook(hook)
        pruner = _prune_hook(p, writer)
        if pruner is not None:
            runner.register_hook(pruner)
        runner.train()
        if pruner is not None and pruner.pruned:
            return True  # the hook closed the attempt, with the checkpoint it stopped at
        if runner._val_loop is not None and hook.last_eval_iter != runner.iter:
            runner.val()  # resumed from the final checkpoint: evaluate what it holds
            hook.final_summary(runner)
        if writer is not None:
            writer.finish("completed", checkpoint=last_checkpoint(run_dir))
        return True
    except Exception as exc:
        logger.exception("run %s failed", p.run_id)
        if writer is not None:
            _record_failure(writer, run_dir, exc)
        return False
    finally:
        if runner is not None:
            runner.visualizer.close()  # the tracker's backend never raises (it notes a loss)
            lost = tracker.lost(runner)
            if lost and writer is not None:
                writer.tracker_lost(lost)


def _record_failure(writer: RecordWriter, run_dir: Path, exc: Exception) -> None:
    """An exception ends the attempt as ``failed``, unless the checkpoint path closed it first
    (a preemption or time-limit signal): then SLURM runs the job again and the attempt keeps its
    cause, whatever the interrupted code raises on its way out (W&B, whose service SLURM's
    SIGTERM killed; a save cut short). Only a requeue that submitit refused fails the run."""
    if writer.attempt_open:
        from harness.job.failure import classify
        from harness.job.peers import peer_fault

        lost = peer_fault()  # a peer process died or raised first: that is the cause
        tail = _error_tail(run_dir, exc)
        if lost is not None and lost[0] != "failed":
            then = f"{lost[1]}; rank 0 then raised {type(exc).__name__}"
            writer.finish(lost[0], last_checkpoint(run_dir), detail=then)
        elif lost is not None:
            writer.finish("failed", error_tail=f"{lost[1]}\n{tail}", failure="error")
        else:
            writer.finish("failed", error_tail=tail, failure=classify(exc))
        return
    from submitit.core.utils import UncompletedJobError

    if isinstance(exc, UncompletedJobError):
        writer.fail_after_close(_error_tail(run_dir, exc))
        return
    cause = writer.record["attempts"][-1].get("exit")
    logger.warning("%s: %r after its attempt closed as %s; it stays %s", writer.path, exc,
                   cause, cause)  # fmt: skip
