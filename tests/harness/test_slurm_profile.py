"""SLURM settings: profile files, resources -> sbatch options (golden file), job id parsing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.errors import ProfileError
from harness.executors.slurm import SlurmExecutor
from harness.executors.slurm_cli import expand
from harness.executors.slurm_profile import SlurmProfile, load_slurm_profile
from harness.job.payload import JobPayload
from harness.spec.model import Resources
from tests.harness.conftest import REPO, make_payload

GOLDEN = Path(__file__).parent / "golden"


def _payload(resources: Resources, rid: str = "0123456789ab") -> JobPayload:
    return make_payload(resources, rid)  # type: ignore[return-value]


def test_repository_profiles_load() -> None:
    for path in sorted((REPO / "slurm" / "profiles").glob("*.yaml")):
        assert load_slurm_profile(path.stem, path.parent).name == path.stem
    assert load_slurm_profile(None, Path("/nonexistent")) == SlurmProfile()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("partion: gpu\n", "unknown key(s) ['partion']"),
        ("setup: module load x\n", "setup must be a list"),
        ("signal_delay_s: soon\n", "signal_delay_s must be an int"),
        ("[1, 2]\n", "must be a mapping"),
    ],
)
def test_bad_profiles(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ProfileError, match=re.escape(message)):
        load_slurm_profile("bad", tmp_path)
    with pytest.raises(ProfileError, match="profiles: \\['bad'\\]"):
        load_slurm_profile("missing", tmp_path)


def test_paper_array_sbatch_matches_golden_file() -> None:
    profile = load_slurm_profile("example-cluster", REPO / "slurm" / "profiles")
    ex = SlurmExecutor(Path("/runs/table6/paper/.submitit"), profile, array_parallelism=4)
    paper = Resources(gpus=8, cpus=32, mem_gb=128, timeout_min=1440)
    script = ex.sbatch_script(ex.units([_payload(paper)])[0], "tok", array_size=12)
    golden = GOLDEN / "paper_array.sbatch"
    assert script == golden.read_text()


def test_two_node_sbatch_matches_golden_file() -> None:
    """2 nodes x 8 GPUs: 16 processes, 8 per node, one array task per run."""
    profile = load_slurm_profile("example-cluster", REPO / "slurm" / "profiles")
    ex = SlurmExecutor(Path("/runs/table2/paper/.submitit"), profile, array_parallelism=4)
    two = Resources(gpus=8, cpus=32, mem_gb=128, timeout_min=1440, nodes=2)
    script = ex.sbatch_script(ex.units([_payload(two)])[0], "tok", array_size=2)
    assert script == (GOLDEN / "two_node_array.sbatch").read_text()


def _distributed(monkeypatch: pytest.MonkeyPatch, job: str, node: int, rank: int) -> tuple:
    """What a task of a 2 x 8 array job on nodes gpu07 and gpu08 exports (as SLURM sets it)."""
    import submitit

    env = {"SLURM_JOB_ID": f"{job}_1", "SLURM_ARRAY_JOB_ID": job, "SLURM_ARRAY_TASK_ID": "1",
           "SLURM_JOB_NODELIST": "gpu[07-08]", "SLURM_JOB_NUM_NODES": "2",
           "SLURM_NODEID": str(node), "SLURM_PROCID": str(rank), "SLURM_LOCALID": str(rank % 8),
           "SLURM_NTASKS": "16", "SUBMITIT_EXECUTOR": "slurm"}  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MASTER_PORT", raising=False)  # the executors submit without one
    t = submitit.helpers.TorchDistributedEnvironment()
    return t.master_addr, t.master_port, t.rank, t.world_size, t.local_rank


def test_every_process_of_a_job_meets_on_the_first_node_at_a_port_of_its_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = _distributed(monkeypatch, "4242", node=0, rank=0)
    ninth = _distributed(monkeypatch, "4242", node=1, rank=9)
    assert first[0] == ninth[0] == "gpu07" and first[1] == ninth[1]
    assert (ninth[2], ninth[3], ninth[4]) == (9, 16, 1)
    assert _distributed(monkeypatch, "4243", node=0, rank=0)[1] != first[1]


@pytest.mark.slurm
def test_script_parameters_are_what_submit_gives_sbatch() -> None:
    """Where srun exists, submitit's own AutoExecutor translates the same parameters into the
    same sbatch options as the script writer that the golden test uses without SLURM."""
    import submitit

    from harness.executors.slurm import script_parameters

    profile = load_slurm_profile("example-cluster", REPO / "slurm" / "profiles")
    ex = SlurmExecutor(Path("/runs/table6/paper/.submitit"), profile, array_parallelism=4)
    paper = Resources(gpus=8, cpus=32, mem_gb=128, timeout_min=1440)
    params = ex.parameters(ex.units([_payload(paper)])[0], "tok")
    auto = submitit.AutoExecutor(folder=ex.folder / "%j", cluster="slurm")
    auto.update_parameters(**params)
    assert script_parameters(ex.folder / "%j", params) == auto._executor.parameters


def test_units_group_equal_resources_contiguously() -> None:
    small, big = Resources(cpus=2), Resources(gpus=8, cpus=32)
    payloads = [_payload(r, f"{i:012d}") for i, r in enumerate([small, big, small, big])]
    ex = SlurmExecutor(Path("/f"), SlurmProfile(request_memory=True))  # no sinfo asked
    units = ex.units(payloads)
    order = [u.resources for u in units]
    assert order in ([big, big, small, small], [small, small, big, big])
    params = ex.parameters(units[0], "t")
    assert params["name"] == "lors-t" and params["slurm_array_parallelism"] == 64


@pytest.mark.parametrize(
    ("job_id", "tasks"),
    [
        ("12_3", [(12, 3)]),
        ("12_[0-2,5%4]", [(12, 0), (12, 1), (12, 2), (12, 5)]),
        ("12", []),
        ("x", []),
    ],
)
def test_array_ids(job_id: str, tasks: list[tuple[int, int]]) -> None:
    assert expand(job_id) == tasks
