"""Adopting a dead launcher's SLURM submission, without SLURM: job ids as squeue and sacct print
them, and how found tasks are matched to units (by their pickles, never by position)."""

from __future__ import annotations

from pathlib import Path

import pytest
import submitit

from harness.executors.slurm_adopt import match, pickled_runs
from harness.executors.slurm_cli import job_ids
from harness.job.entry import CellJob
from tests.harness.conftest import make_payload


@pytest.mark.parametrize(
    ("listed", "jobs"),
    [
        ("12_1\n12_0\n", ["12_0", "12_1"]),
        ("12_[0-2%2] 9", ["9", "12_0", "12_1", "12_2"]),
        ("12_3 12_3 13", ["12_3", "13"]),  # squeue and sacct both list a task: once
        ("", []),
    ],
)
def test_job_ids(listed: str, jobs: list[str]) -> None:
    assert job_ids(listed) == jobs


T, F = True, False  # in the queue: held, or not (running)


@pytest.mark.parametrize(
    ("listed", "pickles", "queue", "jobs", "release", "cancel"),
    [
        # all pickled, all held: each task runs the unit its pickle names, whatever its index
        ("7_0 7_1 8", {"7_0": ("c",), "7_1": ("a",), "8": ("b",)}, {"7_0": T, "7_1": T, "8": T},
         ["7_1", "8", "7_0"], ["7_0", "7_1", "8"], []),
        # the launcher died before submitit moved the second job's pickle
        ("7_0 7_1 8", {"7_0": ("a",), "7_1": ("b",)}, {"7_0": T, "7_1": T, "8": T},
         ["7_0", "7_1", None], ["7_0", "7_1"], ["8"]),
        # a partly finished array: task 0 ended (sacct only), task 1 runs
        ("7_0 7_1", {"7_0": ("b",), "7_1": ("c",)}, {"7_1": F}, [None, "7_0", "7_1"], [], []),
        # two tasks naming one unit: the second never runs it twice
        ("7_0 7_1", {"7_0": ("a",), "7_1": ("a",)}, {"7_0": T, "7_1": T},
         ["7_0", None, None], ["7_0"], ["7_1"]),
        # a pickle naming no unit of this submission; an ended task without a pickle
        ("7_0 7_1", {"7_0": ("z",)}, {"7_0": T}, [None, None, None], [], ["7_0"]),
    ],
)  # fmt: skip
def test_tasks_match_units_by_their_pickles(
    listed: str,
    pickles: dict[str, tuple[str, ...]],
    queue: dict[str, bool],
    jobs: list[str | None],
    release: list[str],
    cancel: list[str],
) -> None:
    found = match([["a"], ["b"], ["c"]], job_ids(listed), queue, pickles.get)
    assert (found.jobs, found.release, found.cancel) == (jobs, release, cancel)


def test_pickled_runs_reads_what_submitit_wrote(tmp_path: Path) -> None:
    from harness.spec.model import Resources

    payloads = [make_payload(Resources(), rid) for rid in ("r1", "r2")]
    job = tmp_path / "7_1"
    job.mkdir()
    submitit.helpers.DelayedSubmission(CellJob(), payloads).dump(job / "7_1_submitted.pkl")
    assert pickled_runs(tmp_path, "7_1") == ("r1", "r2")
    assert pickled_runs(tmp_path, "7_0") is None
    (tmp_path / "7_2").mkdir()
    (tmp_path / "7_2" / "7_2_submitted.pkl").write_bytes(b"torn")
    assert pickled_runs(tmp_path, "7_2") is None
