"""A SLURM controller that stops answering while the launcher submits: sbatch is tried again
with backoff, and the job of the sbatch whose answer was lost is cancelled before it ever runs.

The default suite checks the retry rule; the ``slurm``-marked test stops the real slurmctld
(SIGSTOP) just before the launch's first sbatch and lets it go on (SIGCONT) 13 s later. The real
sbatch times out after MessageTimeout (10 s) with ``Socket timed out on send/recv operation``;
the controller, once continued, still takes that job, held and without its pickle, and then
the launch's second try. Counted from SLURM itself: each cell runs once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.executors.slurm_cli import with_backoff
from tests.harness.conftest import REPO, write_spec
from tests.harness.test_slurm_window import SPEC, _entries, each_cell_ran_once, tokens

__all__ = ["tokens"]  # the fixture, shared with the sbatch-window tests


def test_a_controller_that_does_not_answer_is_asked_again() -> None:
    said = iter(["sbatch: error: Batch job submission failed: Socket timed out on send/recv",
                 "Unable to contact slurm controller (connect failure)"])  # fmt: skip
    calls = []

    def flaky() -> str:
        calls.append(1)
        message = next(said, None)
        if message:
            raise RuntimeError(f"Command failed\n{message}")
        return "42"

    assert with_backoff(flaky, "sbatch", backoff=(0, 0)) == "42" and len(calls) == 3


def test_a_refusal_or_the_last_try_is_raised_at_once() -> None:
    calls = []

    def refused() -> None:
        calls.append(1)
        raise RuntimeError("sbatch: error: Invalid partition name specified")

    with pytest.raises(RuntimeError, match="Invalid partition"):
        with_backoff(refused, "sbatch", backoff=(0, 0))
    assert len(calls) == 1

    def down() -> None:
        calls.append(1)
        raise RuntimeError("Socket timed out on send/recv operation")

    with pytest.raises(RuntimeError, match="Socket timed out"):
        with_backoff(down, "sbatch", backoff=(0, 0))
    assert len(calls) == 1 + 3


# The real sbatch, after stopping the controller on the first call (and continuing it 13 s
# later, in the background, its output away from the pipe submitit reads).
SBATCH = """#!/bin/sh
if [ ! -e MARK ]; then
    touch MARK
    kill -STOP CTLD
    (sleep 13; kill -CONT CTLD) >/dev/null 2>&1 &
fi
exec REAL "$@"
"""


@pytest.mark.slurm
def test_sbatch_during_a_controller_stall_submits_each_cell_once(
    tmp_path: Path, slurm_cluster: str, tokens
) -> None:
    ctld = subprocess.run(["pgrep", "-x", "slurmctld"], capture_output=True, text=True)
    (pid,) = ctld.stdout.split()
    real = shutil.which("sbatch")
    assert real is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "sbatch"
    text = SBATCH.replace("MARK", str(tmp_path / "stopped")).replace("CTLD", pid)
    script.write_text(text.replace("REAL", real))
    script.chmod(0o755)
    spec = write_spec(tmp_path, SPEC, name="window.yaml")
    runs = tmp_path / "runs"
    args = [sys.executable, "-m", "harness.launch", str(spec), "--executor", "slurm",
            "--runs-dir", str(runs), "--poll", "1", "--wandb", "disabled"]  # fmt: skip
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    try:
        done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    finally:
        subprocess.run(["kill", "-CONT", pid])  # whatever happened, the controller goes on
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert (tmp_path / "stopped").exists()
    assert "the SLURM controller did not answer (" in out and "Socket timed out" in out, out
    assert "cancelling held job(s)" in out, out
    assert [e["event"] for e in _entries(runs)] == ["submitting", "submitted"]

    rows = each_cell_ran_once(spec, runs, tokens())
    # the lost answer's job: cancelled while held, never started
    others = [(j, s, t) for j, s, t in rows if s != "COMPLETED"]
    assert all(s.startswith("CANCELLED") and t in ("None", "Unknown") for _, s, t in others)
