"""The synthetic shapes set: deterministic, valid COCO, splits independent, CLI errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from lors.data.shapes import SHAPE_CLASSES
from lors.data.synthetic import SyntheticSpec, main, write_synthetic
from lors.errors import ConfigError


def _files(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    spec = SyntheticSpec(seed=3, num_train=12, num_val=5)
    write_synthetic(tmp_path / "a", spec)
    write_synthetic(tmp_path / "b", spec)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert len(a) == 12 + 5 + 2 + 1  # images, two annotation files, the manifest
    assert a == b


def test_other_seed_gives_other_images(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "a", SyntheticSpec(seed=0, num_train=4, num_val=2))
    write_synthetic(tmp_path / "b", SyntheticSpec(seed=1, num_train=4, num_val=2))
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a["train/000000.png"] != b["train/000000.png"]


def test_val_split_does_not_depend_on_train_size(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "a", SyntheticSpec(seed=0, num_train=4, num_val=3))
    write_synthetic(tmp_path / "b", SyntheticSpec(seed=0, num_train=9, num_val=3))
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    val_a = {k: v for k, v in a.items() if "val" in k}
    assert val_a == {k: v for k, v in b.items() if "val" in k}


def test_annotations_are_valid_coco_and_match_the_pixels(tmp_path: Path) -> None:
    counts = write_synthetic(tmp_path, SyntheticSpec(seed=0, num_train=30, num_val=10))
    assert counts["train_images"] == 30 and counts["val_images"] == 10
    coco = COCO(str(tmp_path / "annotations" / "instances_train.json"))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == list(SHAPE_CLASSES)
    anns = coco.loadAnns(coco.getAnnIds())
    assert len(anns) >= 30  # at least one object per image
    assert {a["category_id"] for a in anns} == {1, 2, 3}
    sizes = [np.sqrt(a["bbox"][2] * a["bbox"][3]) for a in anns]
    assert min(sizes) < 32 and max(sizes) > 96  # small, medium and large objects
    for ann in anns:
        x, y, w, h = ann["bbox"]
        img = coco.loadImgs(ann["image_id"])[0]
        assert x >= 0 and y >= 0 and x + w <= img["width"] and y + h <= img["height"]
    # boxes are tight: the shape drawn last (never covered) reaches each side of its box, within
    # a pixel, and no pixel of its colour lies just outside
    for image_id in (1, 2, 3):
        ann = [a for a in anns if a["image_id"] == image_id][-1]
        name = coco.loadImgs(image_id)[0]["file_name"]
        pixels = np.asarray(Image.open(tmp_path / "train" / name)).astype(int)
        x, y, w, h = (int(v) for v in ann["bbox"])
        colour = pixels[y + h // 2, x + w // 2]
        mask = np.abs(pixels - colour).sum(-1) == 0
        ys, xs = np.nonzero(mask[y : y + h, x : x + w])
        assert ys.min() <= 1 and ys.max() >= h - 2 and xs.min() <= 1 and xs.max() >= w - 2
        outside = mask.copy()
        outside[y : y + h, x : x + w] = False
        assert not outside[max(y - 1, 0) : y + h + 1, max(x - 1, 0) : x + w + 1].any()


def test_json_is_stable_text(tmp_path: Path) -> None:
    write_synthetic(tmp_path, SyntheticSpec(seed=0, num_train=2, num_val=1))
    data = json.loads((tmp_path / "annotations" / "instances_val.json").read_text())
    assert set(data) == {"info", "images", "annotations", "categories"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(num_train=0), "num_train=0"),
        (dict(num_val=-1), "num_val=-1"),
        (dict(seed=-2), "seed=-2"),
    ],
)
def test_bad_spec_is_a_config_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SyntheticSpec(**kwargs)


def test_cli_writes_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main([str(tmp_path), "--seed", "0", "--num-train", "3", "--num-val", "2"])
    out = capsys.readouterr().out
    assert rc == 0 and out.count("\n") == 1 and "train_images=3" in out


def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "lors.data.synthetic", str(tmp_path), "--num-train", "0"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "num_train=0" in proc.stderr
    assert "Traceback" not in proc.stderr
