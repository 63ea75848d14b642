"""mmengine configs as plain nested dicts: load one, look a dotted key up, apply overrides.

Overrides use mmengine's ``merge_from_dict`` semantics (a dict merges into a dict unless it
carries ``_delete_=True``; an integer segment indexes a list), but ``apply_overrides`` copies only
the containers on the paths it changes, so the cells of a sweep share everything else with the
base config. That sharing is what lets ``harness.identity`` hash ten thousand cells in well under
a second. The plan and the job both build a cell's config through this module, so the config the
run id hashes is the config the job trains.

No torch here: ``mmengine.config`` does not import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmengine.config import Config

DELETE_KEY = "_delete_"
_MISSING = object()


class PathError(KeyError):
    """A dotted key does not lead to a value; ``valid`` lists what exists at the failing level."""

    def __init__(self, key: str, failed_at: str, valid: list[str]) -> None:
        super().__init__(key)
        self.key = key
        self.failed_at = failed_at
        self.valid = valid

    def __str__(self) -> str:
        where = f" under {self.failed_at}" if self.failed_at else " at the top level"
        shown = ", ".join(self.valid[:30]) + (", ..." if len(self.valid) > 30 else "")
        return f"no key {self.key!r} in the config; valid keys{where}: {shown or '(none)'}"


def load_config(path: Path | str) -> dict[str, Any]:
    """Load an mmengine config file (with its ``_base_`` chain) as a plain dict.

    Custom modules are not imported, so planning never pulls in torch or mmdet.

    Args:
        path: the config file.

    Returns:
        The resolved config as nested dicts and lists.
    """
    cfg = Config.fromfile(str(path), import_custom_modules=False)
    return to_plain(cfg.to_dict())


def to_plain(value: Any) -> Any:
    """Nested plain dicts, lists and tuples (mmengine's ConfigDicts become dicts).

    Tuples stay tuples: mmcv's transforms reject a list where they expect a tuple (``Resize``'s
    ``scale``), so the config a job trains must keep them. JSON (the record) writes them as
    lists, and ``harness.identity`` hashes a tuple as the list it would become.
    """
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(to_plain(v) for v in value)
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


def split_key(key: str) -> list[str]:
    """``"a.b.0.c"`` -> ``["a", "b", "0", "c"]``."""
    return key.split(".")


def _step(node: Any, seg: str) -> Any:
    if isinstance(node, Mapping):
        return node.get(seg, _MISSING)
    if isinstance(node, list | tuple) and seg.isdigit() and int(seg) < len(node):
        return node[int(seg)]
    return _MISSING


def lookup(cfg: Mapping[str, Any], key: str) -> Any:
    """The value at a dotted key.

    Raises:
        PathError: some segment of the key does not exist; it lists the keys that do.
    """
    node: Any = cfg
    segs = split_key(key)
    for i, seg in enumerate(segs):
        nxt = _step(node, seg)
        if nxt is _MISSING:
            where = ".".join(segs[:i])
            if isinstance(node, Mapping):
                valid = sorted(node)
            elif isinstance(node, list | tuple):
                valid = [str(j) for j in range(len(node))]
            else:
                valid = []
            raise PathError(key, where, valid)
        node = nxt
    return node


def has_key(cfg: Mapping[str, Any], key: str) -> bool:
    """Whether a dotted key leads to a value (``None`` counts as a value)."""
    try:
        lookup(cfg, key)
    except PathError:
        return False
    return True


def merge(new: Any, old: Any) -> Any:
    """mmengine's merge of one override value into the value it replaces."""
    if isinstance(new, Mapping):
        if not isinstance(old, Mapping) or new.get(DELETE_KEY, False):
            return {k: to_plain(v) for k, v in new.items() if k != DELETE_KEY}
        out = dict(old)
        for k, v in new.items():
            if k != DELETE_KEY:
                out[k] = merge(v, old.get(k, _MISSING))
        return out
    if isinstance(old, tuple) and isinstance(new, list):
        return tuple(to_plain(v) for v in new)  # YAML has no tuples; keep what mmcv expects
    return to_plain(new)


def _set_path(node: Any, segs: list[str], value: Any) -> Any:
    """A copy of ``node`` with ``value`` merged in at ``segs``; untouched children are shared."""
    seg, rest = segs[0], segs[1:]
    if isinstance(node, list | tuple) and seg.isdigit():
        idx = int(seg)
        out_list = list(node)
        while len(out_list) <= idx:
            out_list.append(None)
        out_list[idx] = (
            _set_path(out_list[idx], rest, value) if rest else merge(value, out_list[idx])
        )
        return tuple(out_list) if isinstance(node, tuple) else out_list
    out = dict(node) if isinstance(node, Mapping) else {}
    old = out.get(seg, _MISSING)
    if rest:
        out[seg] = _set_path(old if old is not _MISSING else {}, rest, value)
    else:
        out[seg] = merge(value, old)
    return out


def override_order(overrides: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Shallow keys first, so ``lors_cfg`` is set before ``lors_cfg.adaptive_rank`` merges in."""
    return sorted(overrides.items(), key=lambda kv: len(split_key(kv[0])))


def apply_overrides(cfg: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A new config with the dotted-key overrides merged in; ``cfg`` is left untouched.

    Args:
        cfg: a plain config dict (see :func:`load_config`).
        overrides: dotted key -> value, applied shallow keys first.

    Returns:
        The new config; containers off the override paths are shared with ``cfg``.
    """
    out: Any = cfg
    for key, value in override_order(overrides):
        out = _set_path(out, split_key(key), value)
    return dict(out)
