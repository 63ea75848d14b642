"""One process of a two-process run lost ends the whole job within seconds: rank 1 killed, gloo
raises in rank 0, which records the attempt ``killed`` naming the rank (not as its own error);
rank 0 killed, rank 1 leaves and the launcher records it; rank 1 stopped (its socket open, so
rank 0 would wait in the collective for gloo's 30 minutes with its heartbeat beating), rank 0's
peer watch judges it ``stalled`` after ``LORS_PEER_SILENCE_S`` and ends it. No training
process is left, and the record keeps the last checkpoint."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.plan import make_plan
from harness.records.store import read_raw
from harness.spec import load_spec
from tests.harness.conftest import launch, wait_for, write_spec
from tests.harness.test_distributed import SPEC, _checkpoint_iter, _tasks

SILENCE_S = 6  # harness.job.peers allows no less (3 beats)


def _rank(pid: int) -> int:
    env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    found = next(v for v in env if v.startswith(b"SUBMITIT_LOCAL_GLOBALID="))
    return int(found.split(b"=", 1)[1])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("victim", "how"),
    [
        (1, signal.SIGKILL),
        # the other two would cost the default run 25 s of its 5 minutes (make test-extended)
        pytest.param(0, signal.SIGKILL, marks=pytest.mark.extended),
        pytest.param(1, signal.SIGSTOP, marks=pytest.mark.extended),
    ],
    ids=["kill-rank1", "kill-rank0", "stop-rank1"],
)
def test_a_lost_process_ends_its_peers_and_the_attempt(
    tmp_path: Path, victim: int, how: signal.Signals
) -> None:
    spec = write_spec(tmp_path, SPEC.replace("max_iters: 30", "max_iters: 400"), name="two.yaml")
    runs = tmp_path / "runs"
    args = [str(spec), "--executor", "local", "--runs-dir", str(runs), "--wandb", "disabled"]
    env = {"LORS_PEER_SILENCE_S": str(SILENCE_S)}
    started = launch(*args, "--detach", env=env)
    assert started.returncode == 0, started.stderr
    token = re.search(r"token (\w+)", started.stdout + started.stderr)
    assert token, started.stdout + started.stderr
    pc = make_plan(load_spec(spec), "smoke", runs).cells[0]
    wait_for(lambda: _checkpoint_iter(pc.run_dir) >= 5, what="a checkpoint at iteration 5")
    tasks = wait_for(lambda: len(_tasks(token[1])) == 2 and _tasks(token[1]), 30, "two tasks")
    by_rank = {_rank(pid): pid for pid in tasks}
    os.kill(by_rank[victim], how)
    killed_at = time.time()
    wait_for(lambda: not _tasks(token[1]), 60, "every training process to end", step=0.5)
    ended_in = time.time() - killed_at
    shown = subprocess.run(
        [sys.executable, "-m", "harness.status", str(spec), "--runs-dir", str(runs)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stdout + shown.stderr
    rec = read_raw(pc.run_dir / "record.json")
    (attempt,) = rec["attempts"]
    expected = "killed" if how == signal.SIGKILL else "stalled"
    assert f": {expected} (" in shown.stdout, shown.stdout
    assert attempt["exit"] == expected and rec["status"] == "failed", attempt
    if how == signal.SIGSTOP:  # its socket stays open: rank 0 hangs until the silence limit
        assert f"rank 1 of job {attempt['job_id']} silent for" in attempt["detail"], attempt
        assert "lived; killed" in attempt["detail"] and f": {expected} (" in shown.stdout
        assert ended_in >= SILENCE_S - 2.5, ended_in  # silent since its last beat (every 2 s)
    elif victim == 1:
        # gloo raises in rank 0 as soon as it next talks to its peer, and rank 0 names the peer
        # as the cause; or rank 0's watch finds the pid gone first (rank 0 between collectives)
        said = re.escape(f"rank 1 of job {attempt['job_id']} died: its process ")
        then = r"; rank 0 then raised RuntimeError"
        assert re.fullmatch(rf"{said}\d+ is gone({then})?", attempt["detail"]), attempt
    assert rec["checkpoint"] and (pc.run_dir / rec["checkpoint"]).is_file(), rec
    assert ended_in <= SILENCE_S + 15, ended_in
    print(shown.stdout)
    print(f"rank {victim} {how.name}: the job's processes all ended {ended_in:.1f} s later")
