"""Fail fast, before anything is built, when a config's dataset files are missing.

Pure Python (no torch): the harness checks every cell before it submits anything, and
``lors.engine`` checks again before a runner builds its dataloaders.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from lors.errors import LorsError

_LOADERS = ("train_dataloader", "val_dataloader", "test_dataloader")
_EVALUATORS = ("val_evaluator", "test_evaluator")


class DataError(LorsError):
    """A dataset folder or annotation file that a config points at does not exist."""


def leaf_datasets(key: str, dataset: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every leaf dataset config under ``dataset`` with its dotted key (wrappers unrolled)."""
    if not isinstance(dataset, Mapping):
        return
    if isinstance(dataset.get("datasets"), list):  # ConcatDataset and friends
        for i, child in enumerate(dataset["datasets"]):
            yield from leaf_datasets(f"{key}.datasets.{i}", child)
    elif isinstance(dataset.get("dataset"), Mapping):  # RepeatDataset, ClassBalancedDataset
        yield from leaf_datasets(f"{key}.dataset", dataset["dataset"])
    else:
        yield key, dataset


def _join(root: str | None, path: str) -> Path:
    return Path(path) if root is None or os.path.isabs(path) else Path(root) / path


def find_missing_data(cfg: Mapping[str, Any]) -> list[str]:
    """Problems with the dataset paths of ``cfg``, one message per missing path.

    Args:
        cfg: an mmengine config (or any mapping with the same keys).

    Returns:
        Messages naming the missing path and the config key that sets it; empty when all exist.
    """
    problems: list[str] = []
    seen: set[Path] = set()
    missing: list[Path] = []

    def check(path: Path, key: str, what: str) -> None:
        # one message per missing path, none for paths inside a folder already reported
        if path in seen or any(path.is_relative_to(m) for m in missing):
            return
        seen.add(path)
        if not path.exists():
            missing.append(path)
            problems.append(f"{what} {path} not found (config key {key})")

    for loader_key in _LOADERS:
        loader = cfg.get(loader_key)
        if not isinstance(loader, Mapping):
            continue
        for key, dataset in leaf_datasets(f"{loader_key}.dataset", loader.get("dataset")):
            root = dataset.get("data_root")
            if root is not None and not Path(root).is_dir():
                check(Path(root), f"{key}.data_root", "dataset folder")
                continue
            if dataset.get("ann_file"):
                check(_join(root, dataset["ann_file"]), f"{key}.ann_file", "annotation file")
            prefix = dataset.get("data_prefix") or {}
            for name, sub in prefix.items() if isinstance(prefix, Mapping) else ():
                if sub:
                    check(_join(root, sub), f"{key}.data_prefix.{name}", "image folder")
    for key in _EVALUATORS:
        evaluator = cfg.get(key)
        if isinstance(evaluator, Mapping) and evaluator.get("ann_file"):
            check(Path(evaluator["ann_file"]), f"{key}.ann_file", "annotation file")
    return problems


def check_data(cfg: Mapping[str, Any]) -> None:
    """Raise ``DataError`` (one line, every missing path) when a dataset path of ``cfg`` is
    missing; return quietly otherwise.

    Raises:
        DataError: a dataset folder, annotation file or image folder does not exist.
    """
    problems = find_missing_data(cfg)
    if problems:
        raise DataError(
            "; ".join(problems) + ": create it (smoke data: python -m lors.data.synthetic "
            "data/smoke --seed 0) or point the key at it with --cfg-options"
        )
