"""``RunRecord``: valid records read (schema 1 migrated); a corruption names the file and key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.errors import RecordError
from harness.records.record import RunRecord, config_digest, read_run_record
from harness.records.writer import RecordWriter
from tests.analysis.factory import record_dict, write_record


def _read(path: Path) -> RunRecord:
    record = read_run_record(path)
    assert record is not None
    return record


def test_valid_record_is_read(tmp_path: Path) -> None:
    raw = record_dict({"adaptive_rank": "16"}, 1, ap=0.4271)
    record = _read(write_record(tmp_path, raw))
    assert record.run_id == raw["run_id"]
    assert record.coords == {"adaptive_rank": "16"}
    assert record.seed == 1
    assert record.value("bbox_mAP") == pytest.approx(0.4271)
    assert record.value("params.roi_head") == 30_000_000
    assert record.value("params.nope") is None
    assert record.jobs == (f"slurm:{raw['attempts'][0]['job_id']}",)
    assert record.wandb_id == raw["run_id"] and record.wandb_mode == "offline"
    assert record.commit == raw["code"]["commit"]


def test_coco_minus_one_means_undefined_not_a_value(tmp_path: Path) -> None:
    raw = record_dict({"a": "1"}, None, ap=0.3)
    raw["metrics"]["bbox_mAP_l"] = -1.0
    raw["metrics"]["bbox_mAP_s"] = None
    record = _read(write_record(tmp_path, raw))
    assert record.value("bbox_mAP_l") is None and record.value("bbox_mAP_s") is None
    assert record.value("bbox_mAP") == pytest.approx(0.3)


def test_unknown_keys_are_ignored_and_optional_blocks_may_be_absent(tmp_path: Path) -> None:
    raw = record_dict({"a": "1"}, None)
    raw["something_new"] = {"x": 1}
    for key in ("attempts", "wandb", "code", "checkpoint"):
        del raw[key]
    record = _read(write_record(tmp_path, raw))
    assert record.jobs == () and record.wandb_id is None and record.commit is None


def _mutate(raw: dict[str, Any], change: str) -> str | None:
    """Apply one corruption; return the text to write instead of JSON, if any."""
    if change == "truncated":
        return json.dumps(raw)[:50]
    if change == "list":
        return "[1, 2]"
    path, _, value = change.partition("=")
    *parents, last = path.split(".")
    node = raw
    for key in parents:
        node = node[key]
    if value == "<del>":
        del node[last]
    else:
        node[last] = json.loads(value)
    return None


BAD = [
    ("truncated", "not valid JSON"),
    ("list", "expected a JSON object"),
    ("schema=3", "'schema' is 3; this harness reads schema 1, 2"),
    ("schema=2", "missing key 'identity'"),
    ('status="exploded"', "'status' is 'exploded'; valid: queued, running, done, failed"),
    ("run_id=<del>", "missing key 'run_id'"),
    ("label=7", "'label' must be str"),
    ("cell.coords=[1]", "'cell.coords' must be dict"),
    ("cell.coords.adaptive_rank=16", "'cell.coords.adaptive_rank' must be a string"),
    ('cell.seed="0"', "'cell.seed' must be an integer or null"),
    ("metrics.bbox_mAP=42.7", "'metrics.bbox_mAP' must be a fraction in [0, 1] or null"),
    ("metrics.bbox_mAP=-0.5", "'metrics.bbox_mAP' must be a fraction in [0, 1] or null"),
    ('metrics.bbox_mAP="0.4"', "'metrics.bbox_mAP' must be a fraction"),
    ("params.total=-1", "'params.total' must be a non-negative integer"),
    ("params.total=1.5", "'params.total' must be a non-negative integer"),
    ("attempts=[3]", "'attempts[0]' must be an object"),
    ('wandb="x"', "'wandb' must be dict"),
]


@pytest.mark.parametrize(("change", "message"), BAD, ids=[b[0] for b in BAD])
def test_corrupt_record_names_file_and_problem(tmp_path: Path, change: str, message: str) -> None:
    raw = record_dict({"adaptive_rank": "16"}, 0)
    text = _mutate(raw, change)
    path = write_record(tmp_path, raw)
    if text is not None:
        path.write_text(text)
    with pytest.raises(RecordError) as err:
        _read(path)
    line = str(err.value)
    assert line.startswith(f"{path}: ")
    assert message in line
    assert "\n" not in line


def test_unreadable_bytes_are_a_record_error(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(RecordError, match="not UTF-8"):
        _read(path)


def test_missing_file_is_none_not_an_error(tmp_path: Path) -> None:
    assert read_run_record(tmp_path / "record.json") is None


def test_schema_1_is_migrated_on_read(tmp_path: Path) -> None:
    raw = record_dict({"a": "1"}, 0)
    raw["code"]["source_hash"] = "c" * 16
    record = _read(write_record(tmp_path, raw))
    assert record.schema == 1
    assert record.identity.config is None  # schema 1 stored no digest: worked out on demand
    assert record.identity.data == raw["data_manifest"] and record.identity.code == "c" * 16
    from harness.identity import ConfigHasher

    assert config_digest(record) == ConfigHasher().digest(raw["config"])


def test_the_writer_refuses_to_write_a_record_that_breaks_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "run" / "record.json"
    fields = dict(record_dict({"a": "1"}, 0, schema=2))
    writer = RecordWriter(path, fields)
    writer.save()
    assert _read(path).schema == 2
    writer.record["metrics"] = {"bbox_mAP": 42.0}  # a percentage where a fraction belongs
    with pytest.raises(RecordError, match=r"metrics\.bbox_mAP"):
        writer.save()
    assert _read(path).metrics == fields["metrics"]  # the file on disk is the last valid one
