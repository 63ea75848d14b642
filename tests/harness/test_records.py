"""The record writer and reader: attempts, history, exits, metrics, atomic writes, parsing
(docs/record.md)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from harness.errors import RecordError
from harness.records.record import read_run_record
from harness.records.schema import METRIC_KEYS
from harness.records.store import loads, lock_file, read_raw, write_record
from harness.records.writer import RecordWriter, coco_metrics

FIELDS = {
    "sweep": "s",
    "profile": "smoke",
    "label": "a=1",
    "cell": {"coords": {"a": "1"}, "seed": None},
    "run_id": "0123456789ab",
    "identity": {"config": "c" * 32, "data": "none", "code": "e" * 16},
    "wandb": {"id": "0123456789ab", "mode": "offline", "dir": "wandb", "synced": False},
}


def test_lifecycle_done(tmp_path: Path) -> None:
    path = tmp_path / "run" / "record.json"
    w = RecordWriter(path, FIELDS)
    w.start_attempt("local", "123", "node1", 42)
    assert read_raw(path)["status"] == "running"
    w.resumed_from(0)
    w.add_evaluation(
        None, 50, {"coco/bbox_mAP": 0.1, "coco/bbox_mAP_50": 0.3, "loss": 1.5}, "iter_50.pth"
    )
    w.add_evaluation(None, 100, {"coco/bbox_mAP": 0.2, "coco/bbox_mAP_50": 0.4}, "iter_100.pth")
    w.finish("completed", checkpoint="iter_100.pth")
    rec = read_raw(path)
    assert rec["status"] == "done" and rec["checkpoint"] == "iter_100.pth"
    assert rec["metrics"]["bbox_mAP"] == 0.2 and rec["metrics"]["bbox_mAP_s"] is None
    assert set(rec["metrics"]) == set(METRIC_KEYS)
    assert [h["iter"] for h in rec["history"]] == [50, 100] and rec["history"][0]["loss"] == 1.5
    assert rec["attempts"][0]["exit"] == "completed" and rec["wall_time_s"] >= 0
    # no temp file left behind; the lock is a slot of the sweep folder's, not a file per run
    assert sorted(p.name for p in path.parent.iterdir()) == ["record.json"]
    assert lock_file(path.parent).is_file()


def test_killed_attempt_is_closed_by_the_next(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    RecordWriter(path, FIELDS).start_attempt("slurm", "7_0", "n", 1)  # then the process dies
    w = RecordWriter(path, FIELDS)
    w.start_attempt("slurm", "8_0", "n", 2)
    w.resumed_from(200)
    w.finish("failed", error_tail="boom")
    rec = read_raw(path)
    assert [a["exit"] for a in rec["attempts"]] == ["killed", "failed"]
    assert rec["attempts"][1]["resumed_from_iter"] == 200
    assert rec["status"] == "failed" and rec["error_tail"] == "boom"


def test_interrupted_attempt_leaves_the_run_queued(tmp_path: Path) -> None:
    w = RecordWriter(tmp_path / "record.json", FIELDS)
    w.start_attempt("slurm", "9_0", "n", 3)
    w.finish("timeout")
    assert w.status == "queued" and w.record["attempts"][-1]["exit"] == "timeout"


def test_missing_and_nan_metrics_are_null(tmp_path: Path) -> None:
    assert coco_metrics({}) == dict.fromkeys(METRIC_KEYS)
    assert coco_metrics({"coco/bbox_mAP": float("nan")})["bbox_mAP"] is None
    assert coco_metrics({"coco/bbox_mAP_l": -1.0})["bbox_mAP_l"] is None
    path = tmp_path / "r.json"
    write_record(path, {"x": math.inf, "y": [1.0, math.nan]})
    assert json.loads(path.read_text())["x"] is None and read_raw(path)["y"] == [1.0, None]


def test_synced_dirs_survive_a_new_attempt(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    write_record(
        path,
        {
            **FIELDS,
            "status": "failed",
            "wandb": {**FIELDS["wandb"], "synced_dirs": ["offline-run-1"]},
        },
    )
    w = RecordWriter(path, FIELDS)
    assert (
        w.record["wandb"]["synced_dirs"] == ["offline-run-1"]
        and w.record["wandb"]["synced"] is False
    )


# (bytes, what json.loads makes of their text): orjson parses the first kind, the stdlib the rest.
JSON_CASES = [
    (b'{"a": [1, 2.5, -0.0, null, true], "b": {"c": "\\u00e9\\u20ac"}}', None),
    (b'{"a": 1, "a": 2}', None),  # the last duplicate wins in both
    (b'{"a": NaN, "b": -Infinity}', None),  # orjson rejects, the stdlib accepts
    (b'{"a": 1e400}', None),
    (b'{"a": "\\ud800"}', None),  # a lone surrogate
    (b'{"a": 123456789012345678901234567890}', None),  # orjson would make it a float
    (b'{"a": -9223372036854775809}', None),
    (b'{"a": 18446744073709551615}', None),
    (b'{"a": 1}\r\n', None),
    (b"{not json", json.JSONDecodeError),
    (b"", json.JSONDecodeError),
    (b'{"a": 1} x', json.JSONDecodeError),
    (b'\xef\xbb\xbf{"a": 1}', json.JSONDecodeError),  # a BOM: not allowed in either
    (b'{"a":\r\n\r\n x}', json.JSONDecodeError),  # line and column as read_text counts them
    (b'{"a": "\xff"}', UnicodeDecodeError),
]


@pytest.mark.parametrize(("data", "error"), JSON_CASES, ids=[str(c[0])[:40] for c in JSON_CASES])
def test_loads_is_the_stdlib_verdict(data: bytes, error: type[Exception] | None) -> None:
    if error is None:
        expected = json.loads(data.decode())
        got = loads(data)
        assert repr(got) == repr(expected)  # repr: NaN != NaN, and 1 == 1.0 would hide a float
        return
    with pytest.raises(error) as got_err:
        loads(data)
    if error is json.JSONDecodeError:
        with pytest.raises(error) as want:
            json.loads(data.decode().replace("\r\n", "\n"))
        assert str(got_err.value) == str(want.value)


def test_unreadable_record_is_a_record_error(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    assert read_raw(path) is None
    for body, message in [(b"{not", "not valid JSON"), (b"\xff", "not UTF-8"), (b"[1]", "object")]:
        path.write_bytes(body)
        with pytest.raises(RecordError, match=message) as err:
            read_run_record(path)
        assert str(err.value).startswith(f"{path}: ")
