"""What changed between an older run and today's cell, in words a researcher can act on.

``config changed: model.roi_head.num_stages (6 -> 3)``, ``data changed``, ``code changed in
lors/models/roi_heads/decoder.py (run from c7a8bc4)``: ``harness.status`` prints these beside a
stale cell and the analysis puts them in a table's footnotes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.identity.code import CodeVersion, changed_files, load_code_files
from harness.identity.config import EXCLUDED_KEYS
from harness.records.record import RunRecord, read_config

SHOWN = 4  # keys or files named before "and N more"


def config_keys(old: Any, new: Any, path: str = "") -> Iterator[str]:
    """Dotted keys whose values differ between two plain configs (excluded keys left out)."""
    if path in EXCLUDED_KEYS:
        return
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted({*old, *new}, key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in old or key not in new:
                if sub not in EXCLUDED_KEYS:
                    yield sub
            else:
                yield from config_keys(old[key], new[key], sub)
    elif isinstance(old, list | tuple) and isinstance(new, list | tuple) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from config_keys(a, b, f"{path}.{i}")
    elif old != new or type(old) is not type(new):
        yield path


def _lookup(cfg: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(cfg, Mapping) and part in cfg:
            cfg = cfg[part]
        elif isinstance(cfg, list | tuple) and part.isdigit() and int(part) < len(cfg):
            cfg = cfg[int(part)]
        else:
            return "(absent)"
    return cfg


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _listed(items: Sequence[str]) -> str:
    more = f" and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
    return ", ".join(items[:SHOWN]) + more


def describe_config(record: RunRecord, today: Mapping[str, Any]) -> str:
    """``config changed: key (old -> new), ...`` from the record's config block."""
    old = read_config(record.path) if record.path is not None else None
    if old is None:
        return "config changed (the record keeps no config to compare)"
    keys = list(config_keys(old, today))
    if not keys:
        return "config changed (in a key the hash sees only by type)"
    shown = [f"{k} ({_short(_lookup(old, k))} -> {_short(_lookup(today, k))})" for k in keys]
    return f"config changed: {_listed(shown)}"


def describe_code(record: RunRecord, code: CodeVersion, runs_root: Path | None) -> str:
    """``code changed in FILES (run from COMMIT)``, naming files where the runs root kept the
    per-file hashes of the run's code."""
    commit = f"run from {record.commit[:7]}" if record.commit else "run from an unknown commit"
    kept = (
        load_code_files(runs_root, record.identity.code)
        if runs_root and record.identity.code
        else None
    )
    if kept is None or not code.files:
        return f"code changed ({commit})"
    files = changed_files(kept, code.files)
    return f"code changed in {_listed(files)} ({commit})" if files else f"code changed ({commit})"


def describe(
    record: RunRecord,
    changed: Sequence[str],
    today: Mapping[str, Any],
    code: CodeVersion,
    runs_root: Path | None = None,
) -> str:
    """One line: every part of the identity that changed, each with its detail."""
    parts = []
    if "config" in changed:
        parts.append(describe_config(record, today))
    if "data" in changed:
        parts.append("data changed (the dataset files differ from the run's)")
    if "code" in changed:
        parts.append(describe_code(record, code, runs_root))
    return "; ".join(parts) or "up to date"
