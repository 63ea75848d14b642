"""The data part of a run id: a fingerprint of the dataset files a config's dataloaders read.

Annotation files count by content (head and tail for files over 64 MiB), image folders by their
file names. Paths are taken as mmdet does: relative to ``data_root``, which is relative to the
working directory. A dataset file that is not there makes the fingerprint *unknown* rather than
different: a table built on a machine without the dataset compares the config and code only.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lors.data.check import leaf_datasets

logger = logging.getLogger(__name__)

_BIG_FILE = 64 << 20
_EDGE = 4 << 20
_WARNED: set[str] = set()


@dataclass(frozen=True)
class DataManifest:
    """A config's data fingerprint.

    Args:
        digest: the fingerprint (``"none"`` for datasets that read no files).
        missing: the dataset paths that do not exist here (then ``digest`` counts them as missing
            and cannot be compared with a run made where they existed).
    """

    digest: str
    missing: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        """Whether every file the fingerprint covers exists here."""
        return not self.missing


@cache
def _fingerprint(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        if size <= _BIG_FILE:
            h.update(fh.read())
        else:  # a huge annotation file: its size, head and tail
            h.update(fh.read(_EDGE))
            fh.seek(size - _EDGE)
            h.update(fh.read(_EDGE))
    return f"{size}:{h.hexdigest()[:16]}"


def _file_token(path: Path) -> str:
    if path.is_file():
        st = path.stat()
        return _fingerprint(str(path), st.st_size, st.st_mtime_ns)
    if path.is_dir():
        names = sorted(e.name for e in os.scandir(path))
        return f"{len(names)}:{hashlib.sha256(chr(0).join(names).encode()).hexdigest()[:16]}"
    if str(path) not in _WARNED:
        _WARNED.add(str(path))
        logger.info("data manifest: %s does not exist (the run id counts it as missing)", path)
    return "missing"


def manifest_of(cfg: Mapping[str, Any], cwd: Path | None = None) -> DataManifest:
    """The data fingerprint of a resolved config (plain dict), with the paths that are missing.

    Args:
        cfg: a resolved config.
        cwd: the folder relative paths start from (default: the current directory).
    """
    cwd = cwd or Path.cwd()
    items, missing = [], []
    for key in sorted(k for k in cfg if k.endswith("_dataloader")):
        loader = cfg[key]
        if not isinstance(loader, Mapping):
            continue
        for _, ds in leaf_datasets(key, loader.get("dataset")):
            root = cwd / str(ds.get("data_root") or "")
            paths = [ds.get("ann_file")]
            prefix = ds.get("data_prefix")
            if isinstance(prefix, Mapping):
                paths += list(prefix.values())
            for rel in paths:
                if isinstance(rel, str) and rel:
                    token = _file_token(root / rel)
                    items.append(f"{key}:{rel}={token}")
                    if token == "missing":
                        missing.append(str(root / rel))
    if not items:
        return DataManifest("none")
    digest = hashlib.sha256("\n".join(sorted(set(items))).encode()).hexdigest()[:16]
    return DataManifest(digest, tuple(dict.fromkeys(missing)))


def data_manifest(cfg: Mapping[str, Any], cwd: Path | None = None) -> str:
    """The data fingerprint of a resolved config (see :func:`manifest_of`)."""
    return manifest_of(cfg, cwd).digest
