"""The cluster's limits read before anything is submitted (``harness.executors.slurm_limits``):
SLURM's time strings, arrays split to MaxArraySize, refusals in one line; and on the real
SLURM (``slurm``-marked): the limits as the controller states them, a run over a partition's
MaxTime refused with nothing submitted, and arrays split to the profile's size."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import ExecutorError
from harness.executors.base import Unit
from harness.executors.slurm_limits import (
    ClusterLimits,
    admit,
    fields,
    read_limits,
    split,
    time_minutes,
)
from harness.spec.model import Resources
from tests.harness.conftest import REPO, TINY_DIR, make_payload, write_spec


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("60", 60),
        ("30:45", 30),
        ("04:00:00", 240),
        ("1-00:00:00", 1440),
        ("2-12", 3600),
        ("1-02:03", 1563),
        ("UNLIMITED", None),
        ("INFINITE", None),
        ("", None),
        ("x-1", None),
    ],
)
def test_slurm_time_strings(text: str, minutes: int | None) -> None:
    assert time_minutes(text) == minutes


def test_config_and_partition_fields() -> None:
    # the two layouts scontrol prints: `show config` and `-o show partition`
    config = "Configuration data as of 2026-12-03T12:00:00\nMaxArraySize            = 1001\n"
    part = "PartitionName=short AllowGroups=ALL Default=NO MaxTime=00:10:00 Nodes=localhost"
    assert fields(config)["MaxArraySize"] == "1001"
    assert fields(part)["MaxTime"] == "00:10:00" and fields(part)["PartitionName"] == "short"


def _units(n: int, minutes: int = 10) -> list[Unit]:
    r = Resources(cpus=1, timeout_min=minutes)
    return [Unit((make_payload(r, f"{i:012d}"),), r) for i in range(n)]


def test_arrays_split_to_the_largest_size_allowed() -> None:
    five, two = _units(5), _units(2, minutes=20)
    arrays = split([five, two], 2)
    assert [len(a) for a in arrays] == [2, 2, 1, 2]
    assert [u for a in arrays for u in a] == [*five, *two]  # every unit once, in order
    assert [len(a) for a in split([five, two], None)] == [5, 2]


def test_refusals_name_the_limit_and_what_to_change() -> None:
    limits = ClusterLimits(max_array_size=1001, max_job_count=10, partition="short",
                           max_time_min=10)  # fmt: skip
    admit([_units(3, minutes=10)], limits, in_queue=9)  # fits: one array, one record left
    with pytest.raises(ExecutorError) as exc:
        admit([_units(1, minutes=11)], limits, in_queue=0)
    said = str(exc.value)
    assert "timeout_min 11" in said and "partition short" in said and "at most 10" in said
    assert "\n" not in said and "nothing was submitted" in said
    with pytest.raises(ExecutorError, match=r"2 arrays to submit .* holds 9 of its MaxJobCount 10"):
        admit([_units(1), _units(1, minutes=5)], limits, in_queue=9)


SPEC = """
name: limits
base: {base}
default_profile: smoke
profiles:
  smoke:
    overrides: {{train_cfg.max_iters: 4, train_cfg.val_interval: 4}}
    resources: {{gpus: 0, cpus: 1, mem_gb: 2, timeout_min: {minutes}}}
axes:
  axis: hidden
  key: model.hidden
  values: [3, 5]
"""


def _launch(tmp_path: Path, minutes: int, profile: str) -> subprocess.CompletedProcess[str]:
    spec = write_spec(tmp_path, SPEC.format(base=TINY_DIR / "tiny_config.py", minutes=minutes))
    slurm_profile = tmp_path / "cluster.yaml"
    slurm_profile.write_text(profile)
    args = [sys.executable, "-m", "harness.launch", str(spec), "--executor", "slurm",
            "--slurm-profile", str(slurm_profile), "--runs-dir", str(tmp_path / "runs"),
            "--poll", "1"]  # fmt: skip
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)


def _lors_jobs() -> set[str]:
    out = subprocess.run(["squeue", "-h", "-o", "%i %j"], capture_output=True, text=True)
    return {line for line in out.stdout.splitlines() if " lors-" in line}


@pytest.mark.slurm
def test_the_real_controllers_limits(slurm_cluster: str) -> None:
    """slurm/cluster.sh sets no MaxArraySize (SLURM's default is 1001), a default partition
    with no time limit and a partition ``short`` of 10 minutes."""
    default = read_limits(None)
    assert (default.partition, default.max_time_min) == (slurm_cluster, None)
    assert default.max_array_size == 1001 and default.max_job_count
    assert read_limits("short").max_time_min == 10


@pytest.mark.slurm
def test_a_run_over_the_partitions_time_limit_is_refused_before_anything_is_submitted(
    tmp_path: Path, slurm_cluster: str
) -> None:
    before = _lors_jobs()
    done = _launch(tmp_path, 30, "partition: short\n")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(lines) == 1 and "timeout_min 30" in lines[0] and "partition short" in lines[0]
    assert _lors_jobs() == before
    assert not (tmp_path / "runs" / "limits" / "smoke" / ".journal.jsonl").exists()


@pytest.mark.slurm
def test_arrays_are_split_to_the_profiles_size(tmp_path: Path, slurm_cluster: str) -> None:
    done = _launch(tmp_path, 10, "max_array_size: 1\n")
    assert done.returncode == 0, done.stdout + done.stderr
    journal = tmp_path / "runs" / "limits" / "smoke" / ".journal.jsonl"
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    (submitted,) = [e for e in entries if e["event"] == "submitted"]
    arrays = {j.split("_")[0] for j in submitted["jobs"]}
    assert len(submitted["jobs"]) == 2 and len(arrays) == 2, submitted
    # SLURM's own count: the jobs under the submission's name are two arrays of one task each
    name = f"lors-{submitted['token']}"
    out = subprocess.run(["sacct", "-n", "-X", "-P", "--name", name, "-o", "JobID"],
                         capture_output=True, text=True)  # fmt: skip
    if out.returncode == 0:  # with accounting
        assert {j.split("_")[0] for j in out.stdout.split()} == arrays
