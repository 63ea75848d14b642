"""The submission journal read incrementally: appends by other processes are seen, a line still
being written waits, a replaced or truncated file is read again from the start, and a run's job
is its latest submission's; which entries are fsynced."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from harness import journal
from harness.layout import journal_path


def _line(path: Path, entry: dict, newline: bool = True) -> None:
    with path.open("a") as fh:
        fh.write(json.dumps(entry) + ("\n" if newline else ""))


def test_incremental_reads_see_appends_and_wait_for_a_whole_line(tmp_path: Path) -> None:
    journal.record_submitting(tmp_path, "t1", "local", [["r1"], ["r2"]])
    assert [s.token for s in journal.read_journal(tmp_path).pending()] == ["t1"]
    journal.append(tmp_path, "submitted", "t1", jobs=["11", "12"])
    state = journal.read_journal(tmp_path)
    assert state.pending() == [] and state.job_of("r2") == ("local", "12")
    path = journal_path(tmp_path)
    entry = {"event": "submitting", "token": "t2", "executor": "local", "units": [["r1"]]}
    text = json.dumps(entry)
    with path.open("a") as fh:  # another process, half way through its write
        fh.write(text[:20])
    assert [s.token for s in journal.read_journal(tmp_path).submissions] == ["t1"]
    with path.open("a") as fh:
        fh.write(text[20:] + "\n")
    _line(path, {"event": "submitted", "token": "t2", "jobs": ["21"]})
    state = journal.read_journal(tmp_path)
    assert [s.token for s in state.submissions] == ["t1", "t2"]
    assert state.job_of("r1") == ("local", "21") and state.job_of("r2") == ("local", "12")


def test_a_replaced_journal_is_read_from_the_start(tmp_path: Path) -> None:
    journal.record_submitting(tmp_path, "t1", "local", [["r1"]])
    journal.append(tmp_path, "submitted", "t1", jobs=["11"])
    assert journal.read_journal(tmp_path).job_of("r1") == ("local", "11")
    path = journal_path(tmp_path)
    replacement = tmp_path / "other.jsonl"
    _line(replacement, {"event": "submitting", "token": "t9", "executor": "slurm",
                        "units": [["r1"]]})  # fmt: skip
    replacement.replace(path)  # a new file (another inode), shorter than what was read
    state = journal.read_journal(tmp_path)
    assert [s.token for s in state.submissions] == ["t9"] and state.job_of("r1") is None
    path.unlink()
    assert journal.read_journal(tmp_path).submissions == []


def test_a_recovered_unit_that_was_not_found_keeps_the_older_job(tmp_path: Path) -> None:
    journal.record_submitting(tmp_path, "t1", "local", [["r1"]])
    journal.append(tmp_path, "submitted", "t1", jobs=["11"])
    journal.record_submitting(tmp_path, "t2", "local", [["r1"]])
    journal.append(tmp_path, "recovered", "t2", jobs=[""])
    assert journal.read_journal(tmp_path).job_of("r1") == ("local", "11")


def test_every_entry_but_submitted_is_fsynced_and_a_new_journal_its_folder_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(journal.os, "fsync", fsync)
    journal.record_submitting(tmp_path, "t1", "local", [["r1"]])
    assert synced == ["file", "folder"]
    journal.append(tmp_path, "submitted", "t1", jobs=["11"])  # recovery covers its loss
    assert synced == ["file", "folder"] and journal.read_journal(tmp_path).pending() == []
    journal.record_submitting(tmp_path, "t2", "local", [["r2"]])
    journal.append(tmp_path, "abandoned", "t2")
    assert synced == ["file", "folder", "file", "file"]
    # a debug job dies with its launcher: its write-ahead entry is written, not fsynced
    journal.record_submitting(tmp_path, "t3", "debug", [["r3"]], sync=False)
    assert synced == ["file", "folder", "file", "file"]
    assert [s.token for s in journal.read_journal(tmp_path).pending()] == ["t3"]


def test_only_an_executor_whose_jobs_die_with_the_launcher_skips_the_write_ahead_fsync() -> None:
    from harness.executors import EXECUTORS

    assert {n for n, cls in EXECUTORS.items() if not cls.jobs_outlive_launcher} == {"debug"}
