"""The synthetic set made on demand: only where a config asks for it, only inside the project,
and never over a folder made with other settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lors.data.ondemand import ensure, requested
from lors.data.synthetic import MANIFEST, SyntheticSpec, write_synthetic
from lors.errors import ConfigError


def _cfg(block: Any, loader_root: str = "data/smoke/") -> dict[str, Any]:
    dataset = {"type": "CocoDataset", "data_root": loader_root}
    return {
        "synthetic_data": block,
        "train_dataloader": {"dataset": {"type": "RepeatDataset", "dataset": dataset}},
        "val_dataloader": {"dataset": dict(dataset)},
    }


SMALL = {
    "data_root": "data/smoke/", "seed": 3, "num_train": 4, "num_val": 2, "image_size": 64,
    "max_objects": 3,
}


def test_made_once_then_checked(tmp_path: Path) -> None:
    request = requested(_cfg(SMALL), cwd=tmp_path)
    assert request is not None and request.root == tmp_path / "data" / "smoke"
    line = ensure(request, tmp_path)
    assert line is not None and line.startswith("made the smoke data: ")
    assert "seed 3: 4 train / 2 val images of 64 px" in line
    assert json.loads((request.root / MANIFEST).read_text()) == {
        "seed": 3, "num_train": 4, "num_val": 2, "image_size": 64, "max_objects": 3
    }
    assert len(list((request.root / "train").iterdir())) == 4
    assert ensure(request, tmp_path) is None  # already there and right: nothing written


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    request = requested(_cfg(SMALL), cwd=tmp_path)
    assert request is not None
    assert ensure(request, tmp_path, write=False) == f"make the smoke data: {request.describe()}"
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("cfg", "why"),
    [
        ({"train_dataloader": {}}, "no block"),
        (_cfg(SMALL, loader_root="data/coco/"), "the loaders read COCO"),
        (_cfg(None), "switched off"),
    ],
)
def test_nothing_to_make(tmp_path: Path, cfg: dict[str, Any], why: str) -> None:
    assert requested(cfg, cwd=tmp_path) is None, why


def test_a_folder_made_with_other_settings_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "data" / "smoke"
    write_synthetic(root, SyntheticSpec(seed=3, num_train=4, num_val=3))
    before = sorted(p.name for p in (root / "val").iterdir())
    request = requested(_cfg(SMALL | {"image_size": 128}), cwd=tmp_path)
    assert request is not None
    with pytest.raises(ConfigError, match=r"num_val 3 \(config: 2\).*remove the folder"):
        ensure(request, tmp_path)
    assert sorted(p.name for p in (root / "val").iterdir()) == before  # untouched


def test_a_folder_without_a_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data" / "smoke").mkdir(parents=True)
    request = requested(_cfg(SMALL), cwd=tmp_path)
    assert request is not None
    with pytest.raises(ConfigError, match="has no readable synthetic.json"):
        ensure(request, tmp_path)


def test_never_written_outside_the_project(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    block = SMALL | {"data_root": str(outside)}
    request = requested(_cfg(block, loader_root=str(outside)), cwd=tmp_path)
    assert request is not None
    with pytest.raises(ConfigError, match="is outside the project"):
        ensure(request, tmp_path / "project")
    assert not outside.exists()


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"seed": 0}, "must be a dict with data_root"),
        (SMALL | {"num_tain": 4}, r"unknown key\(s\) \['num_tain'\]"),
        (SMALL | {"seed": "0"}, "synthetic_data.seed must be an int"),
        (SMALL | {"num_val": 0}, "num_val=0: the synthetic set needs at least 1 image"),
    ],
)
def test_bad_blocks_name_the_key(tmp_path: Path, block: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        requested(_cfg(block), cwd=tmp_path)
