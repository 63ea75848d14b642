"""The smoke profile's dataset: a small, deterministic COCO-format detection set of shapes.

``python -m lors.data.synthetic data/smoke --seed 0`` writes::

    data/smoke/annotations/instances_train.json   data/smoke/train/000000.png ...
    data/smoke/annotations/instances_val.json     data/smoke/val/000000.png ...

The same seed and sizes give byte-identical files. Train and val are drawn from independent
random streams, so changing the number of training images leaves the val split unchanged.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lors.data.shapes import SHAPE_CLASSES, ShapeParams, draw_image
from lors.errors import ConfigError

logger = logging.getLogger(__name__)

SPLITS: tuple[str, ...] = ("train", "val")
#: written beside the splits: the settings that made the set (lors.data.ondemand checks them)
MANIFEST = "synthetic.json"


@dataclass(frozen=True)
class SyntheticSpec:
    """What to write.

    Args:
        seed: seed of every random choice.
        num_train: images in the train split.
        num_val: images in the val split.
        shapes: how each image is drawn.
    """

    seed: int = 0
    num_train: int = 2000
    num_val: int = 500
    shapes: ShapeParams = field(default_factory=ShapeParams)

    def __post_init__(self) -> None:
        for name in ("num_train", "num_val"):
            value = getattr(self, name)
            if value < 1:
                raise ConfigError(f"{name}={value}: the synthetic set needs at least 1 image")
        if self.seed < 0:
            raise ConfigError(f"seed={self.seed}: must be >= 0")
        if self.shapes.image_size < 32:
            raise ConfigError(f"image_size={self.shapes.image_size}: must be >= 32 pixels")
        if not self.shapes.min_objects <= self.shapes.max_objects <= 20:
            raise ConfigError(
                f"max_objects={self.shapes.max_objects}: must be in "
                f"[{self.shapes.min_objects}, 20]"
            )


def _split_json(spec: SyntheticSpec, split: str, out_dir: Path) -> dict[str, Any]:
    # one random stream per split: the val split does not depend on num_train
    rng = np.random.default_rng([spec.seed, SPLITS.index(split)])
    count = spec.num_train if split == "train" else spec.num_val
    img_dir = out_dir / split
    img_dir.mkdir(parents=True, exist_ok=True)
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    size = spec.shapes.image_size
    for index in range(count):
        image, objects = draw_image(rng, spec.shapes)
        file_name = f"{index:06d}.png"
        image.save(img_dir / file_name, format="PNG")
        image_id = index + 1
        images.append({"id": image_id, "file_name": file_name, "width": size, "height": size})
        for obj in objects:
            x, y, w, h = obj.box_xywh
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": obj.label + 1,
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                }
            )
    categories = [{"id": i + 1, "name": n} for i, n in enumerate(SHAPE_CLASSES)]
    return {
        "info": {"description": f"lors synthetic shapes, seed {spec.seed}, split {split}"},
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }


def spec_fields(spec: SyntheticSpec) -> dict[str, int]:
    """The settings that tell one synthetic set from another (the manifest's content)."""
    return {
        "seed": spec.seed,
        "num_train": spec.num_train,
        "num_val": spec.num_val,
        "image_size": spec.shapes.image_size,
        "max_objects": spec.shapes.max_objects,
    }


def write_synthetic(out_dir: Path, spec: SyntheticSpec) -> dict[str, int]:
    """Write both splits under ``out_dir`` (images and COCO annotation files).

    Args:
        out_dir: the dataset root (the smoke configs' ``data_root``).
        spec: sizes and seed.

    Returns:
        Number of images and of annotations per split, e.g. ``{"train_images": 400, ...}``.
    """
    ann_dir = out_dir / "annotations"
    ann_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for split in SPLITS:
        coco = _split_json(spec, split, out_dir)
        text = json.dumps(coco, indent=1, sort_keys=True)
        (ann_dir / f"instances_{split}.json").write_text(text + "\n")
        counts[f"{split}_images"] = len(coco["images"])
        counts[f"{split}_annotations"] = len(coco["annotations"])
        logger.info("wrote %s: %d images", split, len(coco["images"]))
    # last: a folder with a manifest is complete (an interrupted write leaves none)
    text = json.dumps(spec_fields(spec), sort_keys=True)
    (out_dir / MANIFEST).write_text(text + "\n")
    return counts


def main(argv: list[str] | None = None) -> int:
    """CLI: write the synthetic set and print one summary line."""
    parser = argparse.ArgumentParser(
        prog="python -m lors.data.synthetic", description=__doc__.splitlines()[0]
    )
    parser.add_argument("out_dir", type=Path, help="dataset root, e.g. data/smoke")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-train", type=int, default=SyntheticSpec.num_train)
    parser.add_argument("--num-val", type=int, default=SyntheticSpec.num_val)
    parser.add_argument("--image-size", type=int, default=ShapeParams.image_size)
    parser.add_argument(
        "--max-objects", type=int, default=ShapeParams.max_objects, help="most shapes per image"
    )
    args = parser.parse_args(argv)
    try:
        spec = SyntheticSpec(
            seed=args.seed,
            num_train=args.num_train,
            num_val=args.num_val,
            shapes=ShapeParams(image_size=args.image_size, max_objects=args.max_objects),
        )
        counts = write_synthetic(args.out_dir, spec)
    except (ConfigError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    summary = ", ".join(f"{k}={v}" for k, v in counts.items())
    print(f"wrote {args.out_dir} ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
