"""Make the project's own synthetic set where a config asks for it and it is missing.

A config that trains on the synthetic shapes says so with a ``synthetic_data`` block (the smoke
dataset config has one)::

    synthetic_data = dict(data_root="data/smoke/", seed=0, num_train=2000, num_val=500)

A launch then writes the set before it plans (the same bytes as ``python -m lors.data.synthetic
data/smoke --seed 0``), and every other dataset, COCO included, must exist beforehand. A folder
written by :func:`lors.data.synthetic.write_synthetic` carries ``synthetic.json`` with the
settings that made it; a folder made with other settings is refused, never overwritten.

Pure Python (numpy and PIL; no torch): the harness calls it before it plans.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lors.data.check import leaf_datasets
from lors.data.shapes import ShapeParams
from lors.data.synthetic import MANIFEST, SyntheticSpec, spec_fields, write_synthetic
from lors.errors import ConfigError

KEY = "synthetic_data"
FIELDS = ("data_root", "seed", "num_train", "num_val", "image_size", "max_objects")
_SHAPE_FIELDS = ("image_size", "max_objects")


@dataclass(frozen=True)
class SyntheticRequest:
    """A config's ``synthetic_data`` block: where the set goes and how it is drawn."""

    root: Path
    spec: SyntheticSpec

    def describe(self) -> str:
        s = self.spec
        return (
            f"{self.root} (synthetic shapes, seed {s.seed}: {s.num_train} train / "
            f"{s.num_val} val images of {s.shapes.image_size} px, up to "
            f"{s.shapes.max_objects} shapes each)"
        )


def requested(cfg: Mapping[str, Any], cwd: Path | None = None) -> SyntheticRequest | None:
    """The synthetic set ``cfg`` declares, or None when it declares none or no dataloader reads
    it (a profile that points the loaders at COCO).

    Raises:
        ConfigError: the block has an unknown key or a bad value (names the key).
    """
    block = cfg.get(KEY)
    if block is None:
        return None
    if not isinstance(block, Mapping) or "data_root" not in block:
        raise ConfigError(f"{KEY} must be a dict with data_root and any of {list(FIELDS[1:])}")
    unknown = sorted(set(block) - set(FIELDS))
    if unknown:
        raise ConfigError(f"{KEY}: unknown key(s) {unknown}; valid keys: {list(FIELDS)}")
    values = {k: block[k] for k in FIELDS[1:] if k in block}
    for key, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"{KEY}.{key} must be an int, got {value!r}")
    if not _read_by_a_loader(cfg, str(block["data_root"])):
        return None  # the loaders were pointed elsewhere (COCO): nothing to make
    shapes = ShapeParams(**{k: values.pop(k) for k in _SHAPE_FIELDS if k in values})
    spec = SyntheticSpec(**values, shapes=shapes)
    root = Path(str(block["data_root"]))
    return SyntheticRequest(root if root.is_absolute() else (cwd or Path.cwd()) / root, spec)


def _read_by_a_loader(cfg: Mapping[str, Any], root: str) -> bool:
    """Whether a dataloader's dataset reads ``root`` (wrappers such as RepeatDataset unrolled)."""
    want = root.rstrip("/")
    return any(
        str(dataset.get("data_root")).rstrip("/") == want
        for key, loader in cfg.items()
        if key.endswith("_dataloader") and isinstance(loader, Mapping)
        for _, dataset in leaf_datasets(key, loader.get("dataset"))
    )


def ensure(request: SyntheticRequest, inside: Path, write: bool = True) -> str | None:
    """Write the set when its folder is missing; check it when it is there.

    Args:
        request: what the config asks for.
        inside: the folder the set must lie in (the project): a config never makes the harness
            write elsewhere.
        write: False to only say what would be made (a dry run).

    Returns:
        One line saying what was written, or None when the folder was already right.

    Raises:
        ConfigError: the folder lies outside ``inside``, or holds a set made with other settings
            (or one without ``synthetic.json``): the message says what differs and what to do.
    """
    root = request.root.resolve()
    if not root.is_relative_to(inside.resolve()):
        raise ConfigError(
            f"{KEY}.data_root {request.root} is outside the project {inside}: the harness only "
            "writes its synthetic set inside the project"
        )
    wanted = spec_fields(request.spec)
    if root.exists():
        manifest = root / MANIFEST
        try:
            have = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise ConfigError(
                f"{request.root} exists but has no readable {MANIFEST}, so it is not known to be "
                f"the synthetic set the config asks for ({request.describe()}): remove the "
                "folder and launch again, or make it with python -m lors.data.synthetic"
            ) from None
        if have != wanted:
            diff = ", ".join(
                f"{k} {have.get(k)!r} (config: {v!r})" for k, v in wanted.items() if have.get(k) != v
            )
            raise ConfigError(
                f"{request.root} holds a synthetic set made with other settings: {diff}; remove "
                "the folder (runs on it keep their records) and launch again"
            )
        return None
    if not write:
        return f"make the smoke data: {request.describe()}"
    start = time.perf_counter()
    counts = write_synthetic(root, request.spec)
    took = time.perf_counter() - start
    return (
        f"made the smoke data: {request.describe()}, {counts['train_annotations']} + "
        f"{counts['val_annotations']} boxes, in {took:.1f} s"
    )
