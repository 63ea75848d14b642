"""The code part of a run id: a hash of what the source *does*, blind to how it is written.

Each file under :data:`CODE_PATHS` counts by its syntax tree with every bare string statement
(docstrings) dropped; comments, blank lines, line breaks and quoting never reach the tree. So a
docstring, comment or formatting edit keeps every run id, while any change the interpreter can see
(a default, an operator, a new function) changes it. A file Python cannot parse counts by its
bytes. The per-file hashes are kept beside the total, so a stale run can say which files changed.

The git commit and dirty flag are recorded with the hash but are not part of it: a commit that
only touches docs or the CLIs marks no run stale. ``$LORS_CODE_HASH`` pins the total.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

CODE_PATHS: tuple[str, ...] = ("lors", "harness/job")
# Pins the code part of run ids: for tests, or to keep runs across a change known not to matter.
CODE_HASH_ENV = "LORS_CODE_HASH"
REPO = Path(__file__).resolve().parents[2]
CODE_FOLDER = ".code"  # under the runs root: <source hash>.json -> the per-file hashes


@dataclass(frozen=True)
class CodeVersion:
    """The code a run used.

    Args:
        source_hash: hash of the files under :data:`CODE_PATHS` by syntax (identity).
        commit: ``git rev-parse HEAD``, or None outside git / before the first commit.
        dirty: whether ``git status`` shows any change.
        diff_hash: hash of the uncommitted changes (modified and untracked files), None when clean.
        files: path relative to the repository -> that file's syntax hash.
    """

    source_hash: str
    commit: str | None
    dirty: bool
    diff_hash: str | None
    files: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def as_record(self) -> dict[str, Any]:
        """The record's ``code`` block."""
        return {
            "commit": self.commit,
            "dirty": self.dirty,
            "diff_hash": self.diff_hash,
            "source_hash": self.source_hash,
        }


class _Strip(ast.NodeTransformer):
    """Drops bare string statements: a docstring, or a string used as a comment, does nothing."""

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for name in ("body", "orelse", "finalbody"):
            body = getattr(node, name, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                kept = [s for s in body if not _is_bare_string(s)]
                setattr(node, name, kept or [ast.Pass()])
        return node


def _is_bare_string(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


@cache
def _tree_hash(data: bytes) -> str:
    try:
        tree = _Strip().visit(ast.parse(data))
    except (SyntaxError, ValueError):
        return "bytes:" + hashlib.sha256(data).hexdigest()[:16]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()[:16]


def syntax_hash(path: Path) -> str:
    """The hash of one Python file's syntax tree without its bare strings (parsed once per
    content: the cache is keyed by the bytes, which a same-size edit within one mtime tick
    still changes)."""
    return _tree_hash(path.read_bytes())


def source_hash(files: Mapping[str, str]) -> str:
    """The total of per-file hashes (paths count: a moved file is a change)."""
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(f"{rel}\0{files[rel]}\0".encode())
    return h.hexdigest()[:16]


def changed_files(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """The files added, removed or changed in behaviour between two per-file hash maps."""
    return sorted(f for f in {*old, *new} if old.get(f) != new.get(f))


def _git(args: list[str], root: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def _bytes_hash(root: Path, files: Iterable[str]) -> str:
    h = hashlib.sha256()
    for rel in sorted(set(files)):
        p = root / rel
        if p.is_file():
            h.update(rel.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _code_files(root: Path) -> list[str]:
    listed = _git(["ls-files", "-co", "--exclude-standard", "--", *CODE_PATHS], root)
    if listed is not None:
        return [f for f in listed.splitlines() if f.endswith(".py") and (root / f).is_file()]
    files = [
        str(p.relative_to(root))
        for base in CODE_PATHS
        for p in sorted((root / base).rglob("*.py"))
        if "__pycache__" not in p.parts
    ]
    return files + [f"{b}.py" for b in CODE_PATHS if (root / f"{b}.py").is_file()]


def code_version(root: Path = REPO) -> CodeVersion:
    """The code version of the repository at ``root`` (the scan runs once per process)."""
    version = _scan_code(root)
    pinned = os.environ.get(CODE_HASH_ENV)
    return replace(version, source_hash=pinned) if pinned else version


@cache
def _scan_code(root: Path) -> CodeVersion:
    files = {rel: syntax_hash(root / rel) for rel in _code_files(root)}
    commit = _git(["rev-parse", "--verify", "-q", "HEAD"], root)
    status = _git(["status", "--porcelain"], root)
    dirty = bool(status and status.strip())
    diff_hash = None
    if dirty:
        changed = _git(["ls-files", "-mo", "--exclude-standard"], root) or ""
        diff = _git(["diff", "HEAD", "--binary"], root) or ""
        diff_hash = hashlib.sha256(
            (diff + _bytes_hash(root, changed.splitlines())).encode()
        ).hexdigest()[:16]
    return CodeVersion(
        source_hash=source_hash(files),
        commit=commit.strip() if commit else None,
        dirty=dirty,
        diff_hash=diff_hash,
        files=files,
    )


def save_code_files(runs_root: Path, version: CodeVersion) -> None:
    """Keep the per-file hashes of a code version under the runs root, once per version, so a
    later ``harness.status`` can name the files a stale run's code differs in."""
    if not version.files:
        return
    folder = runs_root / CODE_FOLDER
    path = folder / f"{version.source_hash}.json"
    if path.is_file():
        return
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".code-", suffix=".tmp", dir=folder)
    with os.fdopen(fd, "w") as fh:
        json.dump({"commit": version.commit, "files": dict(version.files)}, fh, sort_keys=True)
    os.replace(tmp, path)


def load_code_files(runs_root: Path, source: str) -> dict[str, str] | None:
    """The per-file hashes kept for a code version, or None when none were kept."""
    try:
        data = json.loads((runs_root / CODE_FOLDER / f"{source}.json").read_text())
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return None
    return {str(k): str(v) for k, v in files.items()}
