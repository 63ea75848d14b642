"""The config part of a run id: a Merkle hash of the resolved config, and the run id itself.

The config is canonicalised (sorted keys, lists, JSON scalars), minus :data:`EXCLUDED_KEYS`:
settings that cannot change the result. Every container is hashed once and memoised, and the
cells of a sweep share their unchanged containers with the base config (``harness.spec.config``),
so a cell costs only the hashing of the few dicts on its override paths. No torch here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

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

    def __len__(self) -> int:
        """Containers memoised (each kept alive by the memo)."""
        return len(self._memo)

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
