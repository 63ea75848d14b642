"""Two launchers of one sweep started at once on the real single-node SLURM: they take the
sweep's lock in turn, so the second finds the first's jobs and follows them; each cell runs
exactly once, counted from SLURM itself (sacct, when accounting is up), the job logs
submitit's folder gets when a task starts, the run folders and the records."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.conftest import REPO, write_spec
from tests.harness.test_slurm_window import SPEC, _entries, each_cell_ran_once, tokens

pytestmark = pytest.mark.slurm
__all__ = ["tokens"]  # the fixture, shared with the sbatch-window tests


def test_two_launchers_at_once_run_each_cell_once(
    tmp_path: Path, slurm_cluster: str, tokens
) -> None:
    spec = write_spec(tmp_path, SPEC, name="window.yaml")
    runs = tmp_path / "runs"
    args = [sys.executable, "-m", "harness.launch", str(spec), "--executor", "slurm",
            "--runs-dir", str(runs), "--poll", "1", "--wandb", "disabled"]  # fmt: skip
    logs = [tmp_path / f"launcher-{i}.log" for i in range(2)]
    procs = []
    for log in logs:
        with log.open("w") as fh:
            procs.append(subprocess.Popen(args, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT,
                                          env={**os.environ, "PYTHONUNBUFFERED": "1"}))  # fmt: skip
    try:
        codes = [p.wait(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    outs = [log.read_text() for log in logs]
    assert codes == [0, 0], outs
    # one launcher submitted the three cells, the other found them and followed them to the end
    assert sorted("submitted 3 cells" in o for o in outs) == [False, True], outs
    assert sum("following 3 runs submitted earlier" in o for o in outs) == 1, outs
    assert all("window/smoke: 3/3 done" in o for o in outs), outs
    assert [e["event"] for e in _entries(runs)] == ["submitting", "submitted"]

    rows = each_cell_ran_once(spec, runs, tokens())
    assert all(state == "COMPLETED" for _, state, _ in rows), rows  # nothing else was sent
