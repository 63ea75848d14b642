"""The real single-node SLURM (slurm/cluster.sh up --accounting): the tiny sweep as one array,
and a run killed mid-training that resumes in its folder and its W&B run."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.executors import job_alive
from harness.plan import make_plan
from harness.records.store import read_raw
from harness.spec import load_spec
from tests.harness.conftest import REPO, launch, one_cell_spec

pytestmark = pytest.mark.slurm
SLURM = ("--executor", "slurm")


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)


def test_tiny_sweep_runs_as_one_array(tmp_path: Path, slurm_cluster: str) -> None:
    # the smoke data, made where the launcher runs (configs read data/smoke/ relative to it)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "lors.data.synthetic",
            str(tmp_path / "data" / "smoke"),
            "--seed",
            "0",
        ],
        check=True,
        capture_output=True,
        cwd=REPO,
    )
    spec = REPO / "sweeps" / "examples" / "tiny.yaml"
    runs = tmp_path / "runs"
    args = [
        sys.executable,
        "-m",
        "harness.launch",
        str(spec),
        "--profile",
        "smoke",
        *SLURM,
        "--runs-dir",
        str(runs),
        "--poll",
        "5",
    ]
    first = subprocess.run(
        args, capture_output=True, text=True, cwd=tmp_path, timeout=1800, check=False
    )
    assert first.returncode == 0, first.stdout + first.stderr
    entries = [
        json.loads(x) for x in (runs / "tiny" / "smoke" / ".journal.jsonl").read_text().splitlines()
    ]
    jobs = entries[-1]["jobs"]
    assert len(entries[0]["units"]) == 2 and len({j.split("_")[0] for j in jobs}) == 1  # one array
    records = sorted((runs / "tiny" / "smoke").glob("*/record.json"))
    assert len(records) == 2
    for path in records:
        rec = read_raw(path)
        assert rec["status"] == "done" and rec["attempts"][0]["job_id"] in jobs
        assert rec["params"]["roi_head"] > 0 and set(rec["metrics"]) >= {"bbox_mAP", "bbox_mAP_50"}
        offline = list((path.parent / "wandb").glob("offline-run-*"))
        assert [d.name.rsplit("-", 1)[1] for d in offline] == [rec["run_id"]]
    second = subprocess.run(
        args, capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False
    )
    assert second.stdout.strip() == "nothing left to submit (2 done)", second.stdout + second.stderr


def test_killed_run_resumes_on_slurm(tmp_path: Path, slurm_cluster: str) -> None:
    runs = tmp_path / "runs"
    spec = one_cell_spec(tmp_path, delay=0.25, iters=40)
    started = launch(str(spec), *SLURM, "--runs-dir", str(runs), "--detach")
    assert started.returncode == 0, started.stderr
    pc = make_plan(load_spec(spec), "smoke", runs).cells[0]

    def checkpointed() -> bool:
        marker = pc.run_dir / "last_checkpoint"
        found = re.search(r"iter_(\d+)", marker.read_text()) if marker.is_file() else None
        return found is not None and 10 <= int(found[1]) < 40

    _wait_for(checkpointed, 300, "a checkpoint at iteration 10")
    first = read_raw(pc.run_dir / "record.json")["attempts"][0]
    os.kill(first["pid"], signal.SIGKILL)  # the training process inside the SLURM task
    job = f"slurm:{first['job_id']}"
    _wait_for(lambda: not job_alive([job])[job], 120, "SLURM to end the job")
    resumed = launch(str(spec), *SLURM, "--runs-dir", str(runs), "--retry", "--poll", "2")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    rec = read_raw(pc.run_dir / "record.json")
    killed, second = rec["attempts"]
    assert killed["exit"] == "killed" and second["exit"] == "completed"
    assert second["resumed_from_iter"] >= 10 and second["job_id"] != killed["job_id"]
    assert rec["status"] == "done" and rec["history"][-1]["iter"] == 40
    offline = sorted((pc.run_dir / "wandb").glob("offline-run-*"))
    assert len(offline) == 2 and {d.name.rsplit("-", 1)[1] for d in offline} == {pc.run_id}


def test_cluster_down_is_one_line_and_writes_nothing(tmp_path: Path, tiny_spec: Path) -> None:
    # the real sinfo/sbatch (installed by slurm/cluster.sh), pointed at a controller port where
    # nothing listens: whether the test cluster is up does not matter
    assert shutil.which("sinfo"), "no sinfo on PATH: run `slurm/cluster.sh up` first"
    conf = tmp_path / "slurm.conf"
    conf.write_text(
        "ClusterName=down\nSlurmctldHost=localhost\nSlurmctldPort=6899\n"
        "NodeName=localhost CPUs=1 State=UNKNOWN\n"
        "PartitionName=debug Nodes=localhost Default=YES State=UP\n"
    )
    runs = tmp_path / "runs"
    proc = launch(str(tiny_spec), *SLURM, "--runs-dir", str(runs), env={"SLURM_CONF": str(conf)})
    assert proc.returncode == 2, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "controller does not answer" in line and "--executor local" in line
    assert "Unable to contact slurm controller" in line
    assert not runs.exists()  # no sweep folder, no journal, nothing submitted
