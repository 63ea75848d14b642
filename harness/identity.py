"""Run identity: run id = short hash of (resolved config, data manifest, code version).

- **Config**: the cell's resolved mmengine config, canonicalised (sorted keys, lists, JSON
  scalars), minus :data:`EXCLUDED_KEYS`: settings that cannot change the result.
- **Data manifest**: a fingerprint of the files the run's datasets read (annotation files by
  content, image folders by their file names), see :func:`data_manifest`.
- **Code version**: a hash of the source that determines a result (:data:`CODE_PATHS`, as in the
  working tree, so an uncommitted change counts; ``$LORS_CODE_HASH`` pins it); the git commit
  and dirty flag are recorded beside it. Hashing content rather than the commit keeps a commit
  that only touches docs or the CLIs from marking every run stale.

The config hash is a Merkle hash: every container is hashed once and memoised, and the cells of a
sweep share their unchanged containers with the base config (``harness.spec.config``), so a cell
costs only the hashing of the few dicts on its override paths. No torch here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

RUN_ID_CHARS = 12
EXCLUDED_KEYS: frozenset[str] = frozenset(
    {
        "work_dir",
        "experiment_name",
        "log_level",
        "launcher",
        "resume",
        "visualizer",
        "vis_backends",
        "log_processor",
        "default_hooks.logger",
        "default_hooks.checkpoint",
        "default_hooks.visualization",
        "env_cfg.dist_cfg",
        "env_cfg.mp_cfg",
    }
)
CODE_PATHS: tuple[str, ...] = ("lors", "harness/job")
# Pins the code part of run ids: for tests, or to keep runs across a change known not to matter.
CODE_HASH_ENV = "LORS_CODE_HASH"
REPO = Path(__file__).resolve().parent.parent
_WARNED: set[str] = set()
_BIG_FILE = 64 << 20
_EDGE = 4 << 20


class ConfigHasher:
    """Hashes configs derived from one base config, memoising every container it has seen.

    Args:
        excluded: dotted keys left out of the hash.
    """

    def __init__(self, excluded: Iterable[str] = EXCLUDED_KEYS) -> None:
        self.excluded = frozenset(excluded)
        self._memo: dict[int, tuple[Any, bytes]] = {}
        self._leaves: dict[tuple[type, Any], bytes] = {}
        self._plans: dict[str, tuple[frozenset[Any], list[tuple[Any, str, bytes]]]] = {}

    def digest(self, cfg: Mapping[str, Any]) -> str:
        """Hex digest of a resolved config."""
        return self._hash(cfg, "").hex()

    def _leaf(self, node: Any) -> bytes:
        key = (type(node), node)
        try:
            return self._leaves[key]
        except KeyError:
            out = hashlib.blake2b(json.dumps(node, default=repr).encode(), digest_size=16).digest()
            self._leaves[key] = out
            return out
        except TypeError:  # an unhashable leaf (a set, an object): hash its text every time
            return hashlib.blake2b(repr(node).encode(), digest_size=16).digest()

    def _plan(self, node: dict[Any, Any], path: str) -> list[tuple[Any, str, bytes]]:
        """``(key, dotted path, bytes to hash)`` of a dict's kept keys, sorted; cached per path
        (the cells of a sweep hold copies of the same dicts, with the same keys)."""
        cached = self._plans.get(path)
        if cached is not None and cached[0] == node.keys():
            return cached[1]
        plan = []
        for key in sorted(node):
            sub = f"{path}.{key}" if path else str(key)
            if sub not in self.excluded:
                plan.append((key, sub, str(key).encode() + b"\0"))
        self._plans[path] = (frozenset(node), plan)
        return plan

    def _hash(self, node: Any, path: str) -> bytes:
        kind = type(node)
        if kind is not dict and kind is not list and kind is not tuple:
            return self._leaf(node)
        memo = self._memo
        hit = memo.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        parts = [b"{" if kind is dict else b"["]
        items = (
            self._plan(node, path) if kind is dict else [(i, path, b"") for i in range(len(node))]
        )
        leaves = self._leaves
        for key, sub, prefix in items:
            child = node[key]
            t = type(child)
            if t is dict or t is list or t is tuple:
                hit = memo.get(id(child))
                value = hit[1] if hit is not None and hit[0] is child else self._hash(child, sub)
            else:
                try:
                    value = leaves[(t, child)]
                except (KeyError, TypeError):
                    value = self._leaf(child)
            parts.append(prefix)
            parts.append(value)
        out = hashlib.blake2b(b"".join(parts), digest_size=16).digest()
        # Keeping a reference to the node keeps its id from being reused by a new object.
        memo[id(node)] = (node, out)
        return out


def run_id(config_digest: str, manifest: str, code: str) -> str:
    """The 12-hex-character run id of a config digest, data manifest and code hash."""
    raw = f"{config_digest}|{manifest}|{code}".encode()
    return hashlib.sha256(raw).hexdigest()[:RUN_ID_CHARS]


@dataclass(frozen=True)
class CodeVersion:
    """The code a run used.

    Args:
        source_hash: hash of the files under :data:`CODE_PATHS` as they are on disk (identity).
        commit: ``git rev-parse HEAD``, or None outside git / before the first commit.
        dirty: whether ``git status`` shows any change.
        diff_hash: hash of the uncommitted changes (modified and untracked files), None when clean.
    """

    source_hash: str
    commit: str | None
    dirty: bool
    diff_hash: str | None

    def as_record(self) -> dict[str, Any]:
        """The record's ``code`` block."""
        return {
            "commit": self.commit,
            "dirty": self.dirty,
            "diff_hash": self.diff_hash,
            "source_hash": self.source_hash,
        }


def _git(args: list[str], root: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def _hash_files(root: Path, files: Iterable[str]) -> str:
    h = hashlib.sha256()
    for rel in sorted(set(files)):
        p = root / rel
        if p.is_file():
            h.update(rel.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def code_version(root: Path = REPO) -> CodeVersion:
    """The code version of the repository at ``root`` (the scan runs once per process)."""
    version = _scan_code(root)
    pinned = os.environ.get(CODE_HASH_ENV)
    return replace(version, source_hash=pinned) if pinned else version


@cache
def _scan_code(root: Path) -> CodeVersion:
    listed = _git(["ls-files", "-co", "--exclude-standard", "--", *CODE_PATHS], root)
    if listed is not None:
        files = [f for f in listed.splitlines() if f.endswith(".py")]
    else:
        files = [
            str(p.relative_to(root))
            for base in CODE_PATHS
            for p in sorted((root / base).rglob("*.py"))
            if "__pycache__" not in p.parts
        ]
        files += [f"{b}.py" for b in CODE_PATHS if (root / f"{b}.py").is_file()]
    commit = _git(["rev-parse", "--verify", "-q", "HEAD"], root)
    status = _git(["status", "--porcelain"], root)
    dirty = bool(status and status.strip())
    diff_hash = None
    if dirty:
        changed = _git(["ls-files", "-mo", "--exclude-standard"], root) or ""
        diff = _git(["diff", "HEAD", "--binary"], root) or ""
        diff_hash = hashlib.sha256(
            (diff + _hash_files(root, changed.splitlines())).encode()
        ).hexdigest()[:16]
    return CodeVersion(
        source_hash=_hash_files(root, files),
        commit=commit.strip() if commit else None,
        dirty=dirty,
        diff_hash=diff_hash,
    )


def _datasets(node: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        if "ann_file" in node or "data_root" in node or "data_prefix" in node:
            yield node
        for key in ("dataset", "datasets"):
            yield from _datasets(node.get(key))
    elif isinstance(node, list):
        for item in node:
            yield from _datasets(item)


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


def data_manifest(cfg: Mapping[str, Any], cwd: Path | None = None) -> str:
    """Fingerprint of the dataset files that the config's dataloaders read.

    Annotation files count by content (head and tail for files over 64 MiB), image folders by
    their file names. Paths are taken as mmdet does: relative to ``data_root``, which is relative
    to the working directory. A config whose datasets read no files gives ``"none"``.

    Args:
        cfg: a resolved config (plain dict).
        cwd: the folder relative paths start from (default: the current directory).
    """
    cwd = cwd or Path.cwd()
    items = []
    for key in sorted(k for k in cfg if k.endswith("_dataloader")):
        loader = cfg[key]
        if not isinstance(loader, Mapping):
            continue
        for ds in _datasets(loader.get("dataset")):
            root = cwd / str(ds.get("data_root") or "")
            paths = [ds.get("ann_file")]
            prefix = ds.get("data_prefix")
            if isinstance(prefix, Mapping):
                paths += list(prefix.values())
            for rel in paths:
                if isinstance(rel, str) and rel:
                    items.append(f"{key}:{rel}={_file_token(root / rel)}")
    if not items:
        return "none"
    return hashlib.sha256("\n".join(sorted(set(items))).encode()).hexdigest()[:16]
