"""Check a parsed spec against its mmengine configs: every override key exists, every value fits.

A key must exist in the profile's resolved config, or in the config a cell gets after its
shallower overrides (a case may set ``lors_cfg`` to a dict whose keys an axis then varies).
A value must have the type of the value it replaces (an int may stand for a float; anything may
replace None), or one of the types the knob contract (method.md section 7) allows for that key
(``lors.adamixer_knobs.KNOB_TYPES``).
``model.roi_head`` of every cell (its ``lors_cfg`` and the dimensions that must fit each other)
is checked by ``lors.adamixer_knobs``, with the functions the decoder calls at build time.
Problems are reported at the spec location of the override that caused them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from harness.spec.config import PathError, apply_overrides, has_key, load_config, lookup
from harness.spec.expand import points
from harness.spec.model import Axis, Cases, Grid, Node, OneAtATime, Profile, Zip
from harness.spec.reading import Problems
from lors.adamixer_knobs import KNOB_TYPES, LORS_KEY, checked_knobs
from lors.errors import ConfigError

_TYPE_NAMES = {dict: "dict", list: "list", int: "int", float: "float", bool: "bool", str: "str"}


def _kind(value: Any) -> type:
    for t in (bool, int, float, str, list, dict):
        if isinstance(value, t):
            return t
    return type(value)


def type_problem(key: str, new: Any, old: Any) -> str | None:
    """Why ``new`` cannot replace ``old`` at ``key``, or None when it can."""
    allowed = KNOB_TYPES.get(key)
    if allowed is not None:
        if _kind(new) in allowed or (new is None and type(None) in allowed):
            return None
        names = [_TYPE_NAMES.get(t, "None") for t in allowed]
        return f"{new!r} has type {_kind(new).__name__}; the knob contract allows {names}"
    if old is None or (new is None and isinstance(old, dict)):
        return None
    old_t, new_t = _kind(old), _kind(new)
    if old_t is new_t or (old_t is float and new_t is int):
        return None
    hint = ""
    if new_t is str and old_t in (int, float):
        try:
            float(new)
            hint = " (YAML reads a number like 1e-5 as a string: write 1.0e-5)"
        except ValueError:
            pass
    return f"{new!r} has type {new_t.__name__}; the config holds {old!r} ({old_t.__name__}){hint}"


_ANY = Path("*")  # the default of ``base``: cases of every base config


def _sources(
    node: Node, profile: Profile | None = None, base: Path | None = _ANY
) -> Iterator[tuple[str, Any, str, str]]:
    """``(key, value, where the key is written, where the value is written)`` of every source
    (of the values a profile's subset keeps, with the case overrides of that profile; with
    ``base``, only of the cases that start from that config in the profile, None meaning the
    profile's own)."""
    subset = profile.subset if profile is not None else {}
    if isinstance(node, Axis):
        for i, v in enumerate(node.values):
            if v.label in subset.get(node.name, (v.label,)):
                yield node.key, v.value, f"{node.where}.key", f"{node.where}.values[{i}]"
    elif isinstance(node, Cases):
        for i, case in enumerate(node.items):
            if case.label not in subset.get(node.name, (case.label,)):
                continue
            name = profile.name if profile is not None else ""
            # the one cases block that sets bases: only its cases that start from ``base``
            if base != _ANY and any(c.base for c in node.items) and case.base.get(name) != base:
                continue
            for k, v in case.overrides.items():
                at = f"{node.where}.items[{i}].overrides.{k}"
                yield k, v, at, at
            for k, v in case.by_profile.get(name, {}).items():
                at = f"{node.where}.items[{i}].by_profile.{name}.{k}"
                yield k, v, at, at
    elif isinstance(node, OneAtATime):
        for axis in node.axes:
            yield from _sources(axis, profile, base)
    else:
        for child in node.children:
            yield from _sources(child, profile, base)


def _keys(node: Node) -> set[str]:
    return {key for key, _, _, _ in _sources(node)}


def conflicts(node: Node, where: str, problems: Problems) -> None:
    """Report two children of one grid or zip setting the same config key."""
    if isinstance(node, Grid | Zip):
        op = "grid" if isinstance(node, Grid) else "zip"
        seen: set[str] = set()
        for i, child in enumerate(node.children):
            both = sorted(seen & _keys(child))
            if both:
                problems.add(f"{where}.{op}[{i}]", f"sets {both}, which another child sets too")
            seen |= _keys(child)
            conflicts(child, f"{where}.{op}[{i}]", problems)


class ConfigChecker:
    """Checks overrides against configs, loading each config file once.

    Args:
        problems: the loader's problem collector.
    """

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self._configs: dict[Path, dict[str, Any] | None] = {}

    def base(self, path: Path, where: str) -> dict[str, Any] | None:
        """The config of ``path``, or None after reporting why it cannot be loaded."""
        if path not in self._configs:
            cfg = None
            if not path.is_file():
                self.problems.add(where, f"no such config file {str(path)!r}")
            else:
                try:
                    cfg = load_config(path)
                except Exception as exc:  # mmengine raises many types for a broken config
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                    self.problems.add(
                        where, f"cannot load {str(path)!r}: {type(exc).__name__} {first}"
                    )
            self._configs[path] = cfg
        return self._configs[path]

    def _check(
        self, cfg: Mapping[str, Any], key: str, value: Any, key_at: str, val_at: str
    ) -> bool:
        try:
            old = lookup(cfg, key)
        except PathError as exc:
            self.problems.add(key_at, str(exc))
            return False
        why = type_problem(key, value, old)
        if why:
            self.problems.add(val_at, why)
        return True

    def profile(self, profile: Profile, where: str) -> dict[str, Any] | None:
        """The profile's resolved config after checking its base and its overrides."""
        if profile.base is None:
            return None
        cfg = self.base(profile.base, f"{where}.base")
        if cfg is None:
            return None
        for key, value in profile.overrides.items():
            at = f"{where}.overrides.{key}"
            if self._check(cfg, key, value, at, at):
                cfg = apply_overrides(cfg, {key: value})
        self._lors(cfg, f"{where}.overrides")
        return cfg

    def cells(
        self,
        axes: Node,
        cfg: Mapping[str, Any],
        seed_key: str,
        profile: Profile,
        base: Path | None = None,
    ) -> None:
        """Check every override of the profile's cells that start from ``base`` (None: the
        profile's own config) against ``cfg``, that config resolved with the profile."""
        before = len(self.problems.items)
        all_keys = {key for key, _, _, _ in _sources(axes, profile, base)}
        deferred: dict[str, tuple[str, str]] = {}
        checked: set[tuple[str, str]] = set()
        for key, value, key_at, val_at in _sources(axes, profile, base):
            memo = (key, json.dumps(value, sort_keys=True, default=str))
            if memo in checked:
                continue
            checked.add(memo)
            if has_key(cfg, key):
                self._check(cfg, key, value, key_at, val_at)
            elif any(key.startswith(k + ".") for k in all_keys):
                deferred[key] = (key_at, val_at)
            else:
                self._check(cfg, key, value, key_at, val_at)
        # mmengine reads randomness.seed even where the config does not set it; nothing else
        if not has_key(cfg, seed_key) and seed_key != "randomness.seed":
            self._check(cfg, seed_key, 0, "seed_key", "seed_key")
        touches_lors = any(k.startswith("model.roi_head.") for k in all_keys)
        if not deferred and not touches_lors:
            return
        seen_lors: set[str] = set()
        for point in points(axes, profile.name):
            if not all(point.coords.get(a, ls[0]) in ls for a, ls in profile.subset.items()):
                continue
            if point.base != base:
                continue
            for key, (key_at, val_at) in deferred.items():
                if key in point.overrides:
                    shallower = {
                        k: v for k, v in point.overrides.items() if k.count(".") < key.count(".")
                    }
                    self._check(
                        apply_overrides(cfg, shallower), key, point.overrides[key], key_at, val_at
                    )
            if touches_lors and len(self.problems.items) == before:
                why = self._lors_problem(apply_overrides(cfg, point.overrides), seen_lors)
                if why:
                    touching = [  # the values this cell takes, a lors_cfg key first
                        (not k.startswith(LORS_KEY), at)
                        for k, v, _, at in _sources(axes, profile, base)
                        if k.startswith("model.roi_head.")
                        and point.overrides.get(k, v) == v
                        and k in point.overrides
                    ]
                    where = min(touching)[1] if touching else "axes"
                    self.problems.add(where, f"in cell {point.coords}: {why}")

    def _lors(self, cfg: Mapping[str, Any], where: str) -> None:
        why = self._lors_problem(cfg, set())
        if why:
            self.problems.add(where, why)

    @staticmethod
    def _lors_problem(cfg: Mapping[str, Any], seen: set[str]) -> str | None:
        """Why the decoder of ``cfg`` cannot be built (its ``lors_cfg``, or dimensions that do
        not fit each other), checked by the functions the decoder itself calls."""
        if not has_key(cfg, LORS_KEY):
            return None
        model = cfg["model"]
        memo = json.dumps(
            [model.get("roi_head"), model.get("rpn_head")], sort_keys=True, default=str
        )
        if memo in seen:
            return None
        seen.add(memo)
        try:
            checked_knobs(cfg)
        except ConfigError as exc:
            return str(exc)
        return None
