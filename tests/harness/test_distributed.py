"""A run of two processes (``resources.tasks: 2``) on CPU: ``torch.distributed`` over gloo
through the local executor, preempted (submitit's signal to both processes, as the local
controller sends it before the time limit) and resumed from its checkpoint. Rank 0 alone writes
the record, the W&B run and the checkpoints; both processes train."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest

from harness.plan import make_plan
from harness.records.store import read_raw
from harness.spec import load_spec
from tests.harness.conftest import launch, wait_for, write_spec

SPEC = """
name: two
base: {tiny}
default_profile: smoke
profiles:
  smoke:
    overrides: {model.step_delay_s: 0.25, train_cfg.max_iters: 30}
    resources: {gpus: 0, cpus: 2, mem_gb: 2, timeout_min: 10, tasks: 2}
axes:
  axis: hidden
  key: model.hidden
  values: [4]
"""


def _tasks(token: str) -> list[int]:
    """The pids of the lane's training processes (submitit's tasks, not its controller)."""
    found = []
    for pid in (d for d in os.listdir("/proc") if d.isdigit()):
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        # W&B's service processes inherit the task's environment: the command line tells
        if (
            f"LORS_SUBMISSION={token}:0".encode() in env
            and b"submitit.core._submit" in cmdline
            and any(v.startswith(b"SUBMITIT_LOCAL_GLOBALID=") for v in env)
        ):
            found.append(int(pid))
    return found


def _checkpoint_iter(run_dir: Path) -> int:
    marker = run_dir / "last_checkpoint"
    found = re.search(r"iter_(\d+)", marker.read_text()) if marker.is_file() else None
    return int(found[1]) if found else 0


@pytest.mark.slow
@pytest.mark.extended  # 45-60 s; its real-SLURM twin runs in the slurm suite
def test_two_processes_preempted_then_resumed_write_one_record(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, SPEC, name="two.yaml")
    runs = tmp_path / "runs"
    args = [str(spec), "--executor", "local", "--runs-dir", str(runs), "--wandb", "offline"]
    started = launch(*args, "--detach")
    assert started.returncode == 0, started.stderr
    token = re.search(r"token (\w+)", started.stdout + started.stderr)
    assert token, started.stdout + started.stderr
    pc = make_plan(load_spec(spec), "smoke", runs).cells[0]
    wait_for(lambda: 5 <= _checkpoint_iter(pc.run_dir) < 30, what="a checkpoint at iteration 5")
    tasks = wait_for(lambda: len(_tasks(token[1])) == 2 and _tasks(token[1]), 30, "two tasks")
    for pid in tasks:  # what submitit's local controller sends before the time limit
        os.kill(pid, signal.SIGUSR2)
    followed = launch(*args, "--poll", "1")
    assert followed.returncode == 0, followed.stdout + followed.stderr

    rec = read_raw(pc.run_dir / "record.json")
    assert rec is not None and rec["status"] == "done", rec
    first, second = rec["attempts"]
    assert (first["exit"], second["exit"]) == ("preempted", "completed"), rec["attempts"]
    assert first["processes"] == second["processes"] == 2
    assert first["job_id"] == second["job_id"]  # the same lane, requeued by its controller
    assert second["resumed_from_iter"] >= 5 and rec["history"][-1]["iter"] == 30
    # one W&B run (resumed by the second attempt), written by rank 0 only
    offline = sorted((pc.run_dir / "wandb").glob("offline-run-*"))
    assert len(offline) == 2 and {d.name.rsplit("-", 1)[1] for d in offline} == {pc.run_id}
    # one checkpoint series, in the run folder; both processes trained (a log each, twice)
    assert sorted(p.name for p in pc.run_dir.glob("*.pth")) == ["iter_25.pth", "iter_30.pth"]
    lane = runs / "two" / "smoke" / ".submitit" / first["job_id"]
    assert sorted(p.name for p in lane.glob("*_log.out")) == [
        f"{first['job_id']}_0_log.out",
        f"{first['job_id']}_1_log.out",
    ]
    folders = [p.name for p in (runs / "two" / "smoke").iterdir() if p.name[0] != "."]
    assert folders == [pc.run_dir.name]


def test_processes_per_node_and_in_all() -> None:
    from harness.spec.model import Resources

    assert (Resources().tasks_per_node, Resources().processes) == (1, 1)
    assert Resources(tasks=2).processes == 2 and Resources(gpus=8, tasks=2).tasks_per_node == 8
    assert Resources(gpus=8, nodes=2).processes == 16
    assert Resources(gpus=8, cpus=32, mem_gb=128, timeout_min=1440, nodes=2).short() == (
        "8g/32c/128G/1440m/2x8p"
    )
    assert Resources(gpus=1, cpus=4, mem_gb=8, timeout_min=60).short() == "1g/4c/8G/60m"


def test_executors_that_cannot_start_the_processes_refuse_in_one_line(tmp_path: Path) -> None:
    from harness.errors import ExecutorError
    from harness.executors.base import Unit
    from harness.executors.debug import DebugExecutor
    from harness.executors.local import LocalExecutor
    from harness.spec.model import Resources
    from tests.harness.conftest import make_payload

    def units(r: Resources) -> list[Unit]:
        return [Unit((make_payload(r),), r)]

    with pytest.raises(ExecutorError, match=r"^debug: runs ask for 2 processes .*--executor"):
        DebugExecutor(tmp_path).admit(units(Resources(tasks=2)))
    with pytest.raises(ExecutorError, match=r"^local: runs ask for resources.nodes 2, .*slurm"):
        LocalExecutor(tmp_path).admit(units(Resources(tasks=2, nodes=2)))
    LocalExecutor(tmp_path).admit(units(Resources(tasks=2)))  # one node: the local lanes start it


@pytest.mark.parametrize(("field", "value"), [("tasks", 0), ("nodes", 0), ("tasks", "two")])
def test_bad_process_counts_are_one_line(tmp_path: Path, field: str, value: object) -> None:
    from harness.errors import SpecError

    counts = {"tasks": 2, "nodes": 1, field: value}
    text = SPEC.replace("tasks: 2}", f"tasks: {counts['tasks']}, nodes: {counts['nodes']}}}")
    with pytest.raises(SpecError, match=rf"resources.{field}"):
        load_spec(write_spec(tmp_path, text, name="bad.yaml"))
