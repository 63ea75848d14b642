"""One contract, every executor: submit units, the jobs end, records say done, liveness agrees."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from harness.executors import Executor, make_executor
from harness.journal import new_token
from harness.layout import submitit_dir
from harness.plan import make_plan
from harness.records.store import read_raw
from harness.spec import load_spec
from harness.submit import payload
from tests.harness.conftest import REPO, make_payload, write_spec

SPEC = """
name: contract
base: {tiny}
profiles:
  smoke:
    overrides: {train_cfg.max_iters: 10, train_cfg.val_interval: 10}
    resources: {gpus: 0, cpus: 1, mem_gb: 2, timeout_min: 10}
axes:
  axis: hidden
  key: model.hidden
  values: [3, 5]
"""
LAUNCHERS_JOB = {"SLURM_JOB_ID": "4242", "SLURM_PROCID": "3", "MASTER_PORT": "12345", "RANK": "3"}
EXECUTORS = ["debug", "local", pytest.param("slurm", marks=pytest.mark.slurm)]


def _executor(name: str, folder: Path, request: pytest.FixtureRequest) -> Executor:
    if name == "slurm":
        request.getfixturevalue("slurm_cluster")
    return make_executor(name, folder, parallel=2, profiles_dir=REPO / "slurm" / "profiles")


@pytest.mark.slow
@pytest.mark.parametrize("name", EXECUTORS)
def test_executor_contract(
    tmp_path: Path, name: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a launcher inside a cluster job of its own (an salloc shell): its jobs must not inherit it
    for var, value in LAUNCHERS_JOB.items():
        monkeypatch.setenv(var, value)
    spec = load_spec(write_spec(tmp_path, SPEC))
    plan = make_plan(spec, "smoke", tmp_path / "runs")
    ex = _executor(name, submitit_dir(plan.sweep_dir), request)
    payloads = [payload(plan, pc, name, "disabled") for pc in plan.cells]
    units = ex.units(payloads)
    assert sorted(r for u in units for r in u.run_ids) == sorted(p.run_id for p in payloads)
    token = new_token()
    ids = ex.submit(units, token)
    assert len(ids) == len(units) and all(ids)
    if name == "local":  # a lane's environment is fixed when it is spawned
        for job_id in ids:
            env = dict(
                v.split(b"=", 1)
                for v in Path(f"/proc/{job_id}/environ").read_bytes().split(b"\0")
                if v
            )
            assert env.get(b"LORS_SUBMISSION", b"").startswith(token.encode()), job_id
            assert not {k.decode() for k in env} & set(LAUNCHERS_JOB), job_id
    if name != "debug":  # what a relaunch would adopt: each job for its own unit (or, ended
        # and gone from the queue without accounting, none)
        found = ex.adopt(token, [u.run_ids for u in units], ex.folder)
        assert all(f in (None, i) for f, i in zip(found, ids, strict=True)), (found, ids)
    deadline = time.monotonic() + 240
    while any(ex.alive(ids).values()):
        assert time.monotonic() < deadline, f"{name} jobs still alive: {ids}"
        ex.wait()
        time.sleep(1)
    for pc in plan.cells:
        rec = read_raw(pc.run_dir / "record.json")
        assert rec is not None and rec["status"] == "done", rec and rec.get("error_tail")
        assert rec["attempts"][-1]["executor"] == name
        assert rec["attempts"][-1]["job_id"] in ids
        assert rec["history"][-1]["iter"] == 10
    assert ex.alive(ids) == dict.fromkeys(ids, False)
    assert ex.adopt(new_token(), [["a"], ["b"]], ex.folder) == [None, None]


def _payload_with(resources: object, i: int) -> object:
    return make_payload(resources, f"{i:012d}", executor="local")


def test_local_lanes_default_to_what_the_cores_hold(tmp_path: Path) -> None:
    from harness.executors.local import LocalExecutor, auto_lanes
    from harness.spec.model import Resources

    cores = len(os.sched_getaffinity(0))
    one, two = Resources(cpus=1), Resources(cpus=2)
    payloads = [_payload_with(one, i) for i in range(8)]
    assert auto_lanes(payloads) == max(1, cores)
    assert auto_lanes([*payloads, _payload_with(two, 9)]) == max(1, cores // 2)
    assert len(LocalExecutor(tmp_path).units(payloads)) == min(8, cores)
    assert len(LocalExecutor(tmp_path, parallel=1).units(payloads)) == 1


def test_jobs_do_not_inherit_the_launchers_own_cluster_job(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.executors.environment import job_environment

    for var, value in {**LAUNCHERS_JOB, "SBATCH_ACCOUNT": "lab", "LORS_X": "before"}.items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("LORS_Y", raising=False)
    with job_environment({"LORS_X": "job", "LORS_Y": "job"}):
        assert not set(os.environ) & set(LAUNCHERS_JOB)
        assert os.environ["SBATCH_ACCOUNT"] == "lab"  # the user's own input to sbatch
        assert (os.environ["LORS_X"], os.environ["LORS_Y"]) == ("job", "job")
    assert {v: os.environ[v] for v in LAUNCHERS_JOB} == LAUNCHERS_JOB
    assert os.environ["LORS_X"] == "before" and "LORS_Y" not in os.environ
