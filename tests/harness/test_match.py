"""Matching records to cells: which parts of an identity differ, the dataset-absent rule, and the
words ``harness.status`` and the table footnotes use for a change."""

from __future__ import annotations

from pathlib import Path

from harness.identity import CodeVersion, DataManifest, Identity, ResolvedCell, save_code_files
from harness.records.diff import config_keys, describe
from harness.records.match import changes, match_cell
from harness.records.record import RunIdentity, RunRecord
from harness.records.store import write_record
from harness.spec.model import Cell, Resources
from tests.analysis.factory import record_dict

CELL = Cell(label="K=2", coords={"K": "2"}, seed=None, overrides={}, resources=Resources())
TODAY = Identity(config="c" * 32, data="d" * 16, code="e" * 16)


def _cell(missing: tuple[str, ...] = (), config: dict | None = None) -> ResolvedCell:
    data = DataManifest(TODAY.data, missing)
    return ResolvedCell(CELL, config or {"model": {"k": 2}}, TODAY, data, {})


def _record(config: str, data: str, code: str, run_id: str = "0" * 12) -> RunRecord:
    return RunRecord(
        path=None,
        run_id=run_id,
        sweep="s",
        profile="paper",
        label="K=2",
        coords={"K": "2"},
        seed=None,
        status="done",
        metrics={},
        params={},
        identity=RunIdentity(config, data, code),
    )


def test_each_changed_part_is_named() -> None:
    cell = _cell()
    assert changes(_record(TODAY.config, TODAY.data, TODAY.code, TODAY.run_id), cell) == ()
    assert changes(_record("x", TODAY.data, TODAY.code), cell) == ("config",)
    assert changes(_record(TODAY.config, "x", TODAY.code), cell) == ("data",)
    assert changes(_record(TODAY.config, TODAY.data, "x"), cell) == ("code",)
    assert changes(_record("x", "y", "z"), cell) == ("config", "data", "code")


def test_without_the_dataset_config_and_code_decide() -> None:
    absent = _cell(missing=("data/coco/annotations/instances_val2017.json",))
    # made where the dataset was: another data fingerprint, same config and code
    assert changes(_record(TODAY.config, "f" * 16, TODAY.code), absent) == ()
    assert changes(_record(TODAY.config, "f" * 16, "x"), absent) == ("code",)


def test_a_record_of_another_cell_under_the_same_slug_is_not_matched(tmp_path: Path) -> None:
    raw = record_dict({"K": "3"}, None, label="K=2", sweep="s", schema=2)  # coords disagree
    folder = tmp_path / f"K=2-{raw['run_id']}"
    write_record(folder / "record.json", raw)
    found = match_cell(_cell(), {raw["run_id"]: folder}, "s", "paper")
    assert found.current is None and found.older is None


def test_config_keys_name_what_differs_and_skip_excluded_keys() -> None:
    old = {"model": {"a": 1, "b": [1, 2]}, "work_dir": "x", "default_hooks": {"logger": 1}}
    new = {"model": {"a": 2, "b": [1, 3], "c": 0}, "work_dir": "y", "default_hooks": {"logger": 2}}
    assert list(config_keys(old, new)) == ["model.a", "model.b.1", "model.c"]


def test_describe_names_config_keys_and_code_files(tmp_path: Path) -> None:
    raw = record_dict({"K": "2"}, None, label="K=2", sweep="s", schema=2)
    raw["config"] = {"model": {"k": 1}}
    raw["identity"]["code"] = "old"
    path = tmp_path / "run" / "record.json"
    write_record(path, raw)
    record = RunRecord.parse(raw, path)
    then = CodeVersion("old", None, False, None, {"lors/a.py": "1", "lors/b.py": "2"})
    now = CodeVersion("new", None, False, None, {"lors/a.py": "1", "lors/b.py": "3"})
    save_code_files(tmp_path / "runs", then)
    text = describe(record, ("config", "code"), {"model": {"k": 2}}, now, tmp_path / "runs")
    assert text == (
        "config changed: model.k (1 -> 2); code changed in lors/b.py (run from 0123456)"
    )
    # without the kept per-file hashes the commit is still named
    assert describe(record, ("code",), {}, now, tmp_path / "elsewhere") == (
        "code changed (run from 0123456)"
    )
