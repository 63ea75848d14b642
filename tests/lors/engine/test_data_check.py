"""A config whose dataset is missing fails before training with one line naming path and key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

from lors.data.synthetic import SyntheticSpec, write_synthetic
from lors.engine import DataError, LorsRunner, build_runner, check_data, find_missing_data
from lors.errors import LorsError

REPO = Path(__file__).resolve().parents[3]
SMOKE = REPO / "configs" / "smoke" / "adamixer_lors_smoke.py"
PAPER = REPO / "configs" / "adamixer" / "adamixer_r50_1x_coco.py"


def _smoke_cfg(root: Path, work_dir: Path) -> Config:
    cfg = Config.fromfile(str(SMOKE))
    root_str = str(root) + "/"
    for key in ("train_dataloader", "val_dataloader", "test_dataloader"):
        cfg[key].dataset.data_root = root_str
    for key in ("val_evaluator", "test_evaluator"):
        cfg[key].ann_file = root_str + "annotations/instances_val.json"
    cfg.work_dir = str(work_dir)
    return cfg


def test_missing_root_names_path_and_key(tmp_path: Path) -> None:
    cfg = _smoke_cfg(tmp_path / "nowhere", tmp_path / "work")
    with pytest.raises(DataError) as info:
        check_data(cfg)
    message = str(info.value)
    assert isinstance(info.value, LorsError)
    assert "\n" not in message
    assert f"dataset folder {tmp_path / 'nowhere'} not found" in message
    assert "train_dataloader.dataset.data_root" in message
    # the val split and evaluator sit in the same missing folder: reported once
    assert message.count("not found") == 1


def test_missing_annotation_file_names_its_key(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "data", SyntheticSpec(num_train=2, num_val=1))
    (tmp_path / "data" / "annotations" / "instances_val.json").unlink()
    problems = find_missing_data(_smoke_cfg(tmp_path / "data", tmp_path / "work"))
    # the evaluator reads the same file: one message, naming the first key that sets it
    assert len(problems) == 1
    assert "instances_val.json not found" in problems[0]
    assert "val_dataloader.dataset.ann_file" in problems[0]


def test_complete_dataset_passes(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "data", SyntheticSpec(num_train=2, num_val=1))
    check_data(_smoke_cfg(tmp_path / "data", tmp_path / "work"))


def test_wrapped_datasets_are_checked(tmp_path: Path) -> None:
    cfg = {
        "train_dataloader": {
            "dataset": {
                "type": "RepeatDataset",
                "dataset": {"data_root": str(tmp_path / "gone"), "ann_file": "a.json"},
            }
        }
    }
    problems = find_missing_data(cfg)
    assert problems == [
        f"dataset folder {tmp_path / 'gone'} not found "
        "(config key train_dataloader.dataset.dataset.data_root)"
    ]


def test_runner_fails_before_building(tmp_path: Path) -> None:
    cfg = _smoke_cfg(tmp_path / "nowhere", tmp_path / "work")
    with pytest.raises(DataError):
        LorsRunner.from_cfg(cfg)
    with pytest.raises(DataError):
        build_runner(cfg)
    assert not (tmp_path / "work").exists()  # nothing was built or written


def test_train_cli_reports_one_line_and_exits_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lors.engine.train",
            str(PAPER),
            "--work-dir",
            str(tmp_path / "work"),
            "--cfg-options",
            f"train_dataloader.dataset.data_root={tmp_path}/coco/",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert f"{tmp_path}/coco" in lines[0] and "train_dataloader.dataset.data_root" in lines[0]
