"""Run ids: what changes them and what does not; the memoised hash equals a fresh one."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from harness.identity import (
    ConfigHasher,
    changed_files,
    code_version,
    data_manifest,
    run_id,
    syntax_hash,
)
from harness.identity.code import _scan_code
from harness.spec.config import apply_overrides

BASE = {
    "model": {"roi_head": {"num_stages": 6, "lors_cfg": {"adaptive_rank": 16}}},
    "work_dir": "a",
    "log_level": "INFO",
    "default_hooks": {"logger": {"interval": 50}, "timer": {"type": "IterTimerHook"}},
    "visualizer": {"vis_backends": [{"type": "LocalVisBackend"}]},
}


def _digest(cfg: dict) -> str:
    return ConfigHasher().digest(cfg)


@pytest.mark.parametrize(
    ("overrides", "same"),
    [
        ({"work_dir": "b"}, True),
        ({"log_level": "DEBUG"}, True),
        ({"default_hooks.logger.interval": 1}, True),
        ({"visualizer.vis_backends": []}, True),
        ({"model.roi_head.num_stages": 3}, False),
        ({"model.roi_head.lors_cfg.adaptive_rank": 8}, False),
        ({"default_hooks.timer.type": "Other"}, False),
        ({"model.roi_head.num_stages": 6.0}, False),  # 6.0 is not 6 in a config
    ],
)
def test_excluded_keys_do_not_change_the_hash(overrides: dict, same: bool) -> None:
    assert (_digest(apply_overrides(BASE, overrides)) == _digest(BASE)) is same


def test_key_order_does_not_matter() -> None:
    reordered = {k: BASE[k] for k in reversed(list(BASE))}
    assert _digest(reordered) == _digest(BASE)


def test_memoised_hash_equals_fresh_hash_over_many_cells() -> None:
    hasher = ConfigHasher()
    for rank in range(50):
        cell = apply_overrides(BASE, {"model.roi_head.lors_cfg.adaptive_rank": rank})
        assert hasher.digest(cell) == _digest(copy.deepcopy(cell))
    assert hasher.digest(BASE) == _digest(copy.deepcopy(BASE))


def test_run_id_depends_on_every_part() -> None:
    rid = run_id("cfg", "data", "code")
    assert len(rid) == 12 and all(c in "0123456789abcdef" for c in rid)
    assert (
        len(
            {
                rid,
                run_id("cfg2", "data", "code"),
                run_id("cfg", "d2", "code"),
                run_id("cfg", "data", "c2"),
            }
        )
        == 4
    )


def test_data_manifest_follows_annotation_content(tmp_path: Path) -> None:
    (tmp_path / "d" / "ann").mkdir(parents=True)
    (tmp_path / "d" / "img").mkdir()
    (tmp_path / "d" / "img" / "0.png").write_bytes(b"x")
    ann = tmp_path / "d" / "ann" / "train.json"
    ann.write_text('{"images": []}')
    cfg = {
        "train_dataloader": {
            "dataset": {
                "type": "CocoDataset",
                "data_root": "d/",
                "ann_file": "ann/train.json",
                "data_prefix": {"img": "img/"},
            }
        }
    }
    first = data_manifest(cfg, cwd=tmp_path)
    assert first == data_manifest(cfg, cwd=tmp_path) and first != "none"
    ann.write_text('{"images": [1]}')
    second = data_manifest(cfg, cwd=tmp_path)
    (tmp_path / "d" / "img" / "1.png").write_bytes(b"y")
    third = data_manifest(cfg, cwd=tmp_path)
    assert len({first, second, third}) == 3
    assert data_manifest({"train_dataloader": {"dataset": {"type": "TinyPoints"}}}) == "none"


def test_code_version_pin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LORS_CODE_HASH", "abc")
    assert code_version().source_hash == "abc"
    monkeypatch.delenv("LORS_CODE_HASH")
    real = code_version()
    assert real.source_hash != "abc" and len(real.source_hash) == 16
    assert isinstance(real.dirty, bool)


SOURCE = '''"""A module."""

def stage(x, scale=2):
    """Scale x."""
    # a comment
    return x * scale
'''


@pytest.mark.parametrize(
    ("edited", "same"),
    [
        (SOURCE.replace('"""Scale x."""', '"""Multiply x by the scale, reworded."""'), True),
        (SOURCE.replace('"""A module."""', "'''Another docstring.'''"), True),
        (SOURCE.replace("# a comment", "# another comment\n\n\n"), True),
        (SOURCE.replace("return x * scale", "return (\n        x * scale\n    )"), True),
        (SOURCE.replace("scale=2", "scale=3"), False),  # a default: behaviour
        (SOURCE.replace("x * scale", "x + scale"), False),
        (SOURCE + "\n\ndef extra():\n    pass\n", False),
    ],
    ids=["docstring", "module-doc", "comment", "format", "default", "operator", "new-function"],
)
def test_code_hash_sees_behaviour_not_cosmetics(tmp_path: Path, edited: str, same: bool) -> None:
    (tmp_path / "lors").mkdir()
    module = tmp_path / "lors" / "stage.py"
    module.write_text(SOURCE)
    scan = _scan_code.__wrapped__  # the cached one answers once per process and root
    before = scan(tmp_path)
    module.write_text(edited)
    after = scan(tmp_path)
    assert (after.source_hash == before.source_hash) is same
    assert after.files.keys() == {"lors/stage.py"}
    assert changed_files(before.files, after.files) == ([] if same else ["lors/stage.py"])


def test_a_file_python_cannot_parse_counts_by_its_bytes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def broken(:\n")
    first = syntax_hash(bad)
    bad.write_text("def broken(:  # now with a comment\n")
    assert first.startswith("bytes:") and syntax_hash(bad) != first


def test_plans_share_one_hasher_and_agree_with_a_fresh_one(tiny_spec: Path) -> None:
    from harness.identity import cells
    from harness.spec import load_spec

    spec = load_spec(tiny_spec)
    _, _, first = cells.resolve_cells(spec)
    hasher = cells._hasher_for(cells.profile_config(spec.profile(None)))
    kept = len(hasher)
    _, _, second = cells.resolve_cells(spec)
    assert [c.run_id for c in second] == [c.run_id for c in first]
    # the second plan hashed only its cells' own containers, not the base config again
    assert 0 < len(hasher) - kept < kept
    for cell in second:
        assert cell.identity.config == ConfigHasher().digest(copy.deepcopy(dict(cell.config)))
