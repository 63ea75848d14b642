"""Parse the spec's ``axes`` block into operator nodes (grid, zip, one_at_a_time, cases, axis).

Grammar (every mapping rejects unknown keys)::

    node  := axis | {grid: [node, ...]} | {zip: [node, ...]}
           | {one_at_a_time: {baseline: {axis: label}, axes: [axis, ...]}}
           | {cases: {axis: NAME, items: [{label, overrides, by_profile?, resources?, base?}, ...]}}
    axis  := {axis: NAME, key: dotted.config.key, values: [value | {label, value, resources?}]}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.spec.expand import points
from harness.spec.model import (
    RESOURCE_KEYS,
    Axis,
    AxisValue,
    Case,
    Cases,
    Grid,
    Node,
    OneAtATime,
    ResourceOverlay,
    Zip,
)
from harness.spec.reading import (
    NAME,
    Problems,
    check_dotted_key,
    check_keys,
    check_label,
    check_overrides,
    check_resource_fields,
    check_str,
    value_label,
)
from harness.spec.roots import config_path

OPERATORS: tuple[str, ...] = ("grid", "zip", "one_at_a_time", "cases")
AXIS_KEYS: tuple[str, ...] = ("axis", "key", "values")
VALUE_KEYS: tuple[str, ...] = ("label", "value", "resources")
CASES_KEYS: tuple[str, ...] = ("axis", "items")
CASE_KEYS: tuple[str, ...] = ("label", "overrides", "by_profile", "resources", "base")
OAT_KEYS: tuple[str, ...] = ("baseline", "axes")
RESERVED_AXES: tuple[str, ...] = ("label", "metrics", "seed")


class AxesParser:
    """Builds the node tree; every problem goes to ``problems`` (see ``harness.spec.reading``).

    Args:
        problems: the collector shared with the rest of the loader.
        profiles: profile names, which a resource overlay may name.
    """

    def __init__(
        self, problems: Problems, profiles: tuple[str, ...], root: Path = Path(".")
    ) -> None:
        self.problems = problems
        self.profiles = profiles
        self.root = root  # case bases are relative to the project root, like the spec's base
        self.axis_names: list[str] = []
        self.cases_with_base: list[str] = []

    def node(self, raw: Any, where: str) -> Node | None:
        """One node of the tree, or None after a problem."""
        if isinstance(raw, Mapping) and "axis" in raw and "items" not in raw:
            return self.axis(raw, where)
        if not isinstance(raw, Mapping) or len(raw) != 1:
            self.problems.add(
                where,
                f"must be an axis {{axis, key, values}} or a mapping with one operator of "
                f"{list(OPERATORS)}, got {str(raw)[:60]!r}",
            )
            return None
        ((op, body),) = raw.items()
        here = f"{where}.{op}"
        if op in ("grid", "zip"):
            if not isinstance(body, list) or not body:
                self.problems.add(here, "must be a non-empty list of axes or operators")
                return None
            children = [self.node(c, f"{here}[{i}]") for i, c in enumerate(body)]
            if any(c is None for c in children):
                return None
            kids = tuple(c for c in children if c is not None)
            if op == "zip":
                return self._zip(kids, here)
            return Grid(kids)
        if op == "one_at_a_time":
            return self.one_at_a_time(body, here)
        if op == "cases":
            return self.cases(body, here)
        self.problems.add(
            here, f"unknown operator {op!r}; valid operators: {list(OPERATORS)} (or an axis)"
        )
        return None

    def _zip(self, kids: tuple[Node, ...], where: str) -> Zip | None:
        lengths = [len(points(k)) for k in kids]
        if len(set(lengths)) > 1:
            self.problems.add(where, f"zip of unequal lengths {lengths}: every child needs as many")
            return None
        return Zip(kids)

    def _axis_name(self, raw: Any, where: str) -> str:
        name = check_str(raw, where, self.problems, NAME)
        if name in RESERVED_AXES:
            self.problems.add(where, f"axis name {name!r} is reserved ({list(RESERVED_AXES)})")
        elif name and name in self.axis_names:
            self.problems.add(where, f"duplicate axis name {name!r}: every axis needs its own")
        elif name:
            self.axis_names.append(name)
        return name

    def overlay(self, raw: Any, where: str) -> ResourceOverlay:
        """Resource changes: resource fields, or profile name -> resource fields."""
        if raw is None:
            return ResourceOverlay()
        if not isinstance(raw, Mapping):
            self.problems.add(where, "must be a mapping of resource fields or profile names")
            return ResourceOverlay()
        valid = [*RESOURCE_KEYS, *self.profiles]
        check_keys(raw, where, valid, self.problems)
        everywhere = {k: v for k, v in raw.items() if k not in self.profiles}
        fields = check_resource_fields(everywhere, where, self.problems) if everywhere else {}
        by_profile = {
            p: check_resource_fields(raw[p], f"{where}.{p}", self.problems)
            for p in self.profiles
            if p in raw
        }
        return ResourceOverlay(fields, by_profile)

    def axis(self, raw: Mapping[str, Any], where: str) -> Axis | None:
        """``{axis, key, values}``; a value is a plain value or ``{label, value, resources}``."""
        check_keys(raw, where, AXIS_KEYS, self.problems, required=AXIS_KEYS)
        name = self._axis_name(raw.get("axis"), f"{where}.axis")
        key = raw.get("key")
        key_ok = check_dotted_key(key, f"{where}.key", self.problems)
        values_raw = raw.get("values")
        if not isinstance(values_raw, list) or not values_raw:
            if "values" in raw:
                self.problems.add(f"{where}.values", "must be a non-empty list")
            return None
        values: list[AxisValue] = []
        for i, item in enumerate(values_raw):
            at = f"{where}.values[{i}]"
            if isinstance(item, Mapping) and ("value" in item or "label" in item):
                check_keys(item, at, VALUE_KEYS, self.problems, required=("value",))
                value = item.get("value")
                label_raw = item.get("label", value_label(value))
                overlay = self.overlay(item.get("resources"), f"{at}.resources")
            else:
                label_raw, value, overlay = value_label(item), item, ResourceOverlay()
            if label_raw is None:
                self.problems.add(at, "this value needs an explicit {label: ..., value: ...}")
                continue
            values.append(
                AxisValue(check_label(label_raw, f"{at}.label", self.problems), value, overlay)
            )
        self._unique([v.label for v in values], f"{where}.values")
        if not name or not key_ok:
            return None
        return Axis(name, str(key), tuple(values), where=where)

    def cases(self, raw: Any, where: str) -> Cases | None:
        """``{axis: NAME, items: [{label, overrides, resources}, ...]}``."""
        if not check_keys(raw, where, CASES_KEYS, self.problems, required=CASES_KEYS):
            return None
        name = self._axis_name(raw.get("axis"), f"{where}.axis")
        items_raw = raw.get("items")
        if not isinstance(items_raw, list) or not items_raw:
            self.problems.add(f"{where}.items", "must be a non-empty list of cases")
            return None
        items = []
        for i, item in enumerate(items_raw):
            at = f"{where}.items[{i}]"
            if not check_keys(item, at, CASE_KEYS, self.problems, required=("label",)):
                continue
            label = check_label(item.get("label"), f"{at}.label", self.problems)
            overrides = check_overrides(item.get("overrides"), f"{at}.overrides", self.problems)
            by_profile = self._by_profile(item.get("by_profile"), f"{at}.by_profile")
            overlay = self.overlay(item.get("resources"), f"{at}.resources")
            base = self._bases(item.get("base"), f"{at}.base")
            items.append(Case(label, overrides, overlay, by_profile, base))
        self._unique([c.label for c in items], f"{where}.items")
        if any(c.base for c in items):
            self.cases_with_base.append(where)
        return Cases(name, tuple(items), where=where) if name else None

    def _bases(self, raw: Any, where: str) -> dict[str, Path]:
        """Profile name -> the config file a case starts from in that profile."""
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            self.problems.add(
                where,
                f"must map profile names {list(self.profiles)} to config files, e.g. "
                "{paper: configs/adamixer_lors/adamixer_lors_r101_300q_3x_coco.py}",
            )
            return {}
        if not check_keys(raw, where, self.profiles, self.problems):
            return {}
        out = {}
        for profile, text in raw.items():
            if not isinstance(text, str) or not text:
                self.problems.add(f"{where}.{profile}", f"must be a config file path, got {text!r}")
                continue
            path = config_path(text, f"{where}.{profile}", self.root, self.problems)
            if path is None:
                continue
            if not path.is_file():
                self.problems.add(f"{where}.{profile}", f"no such config file {str(path)!r}")
                continue
            out[str(profile)] = path
        return out

    def _by_profile(self, raw: Any, where: str) -> dict[str, dict[str, Any]]:
        """Profile name -> overrides of a case in that profile only."""
        if raw is None:
            return {}
        if not check_keys(raw, where, self.profiles, self.problems):
            return {}
        return {p: check_overrides(v, f"{where}.{p}", self.problems) for p, v in raw.items()}

    def one_at_a_time(self, raw: Any, where: str) -> OneAtATime | None:
        """``{baseline: {axis: label}, axes: [axis, ...]}``."""
        if not check_keys(raw, where, OAT_KEYS, self.problems, required=OAT_KEYS):
            return None
        axes_raw = raw.get("axes")
        if not isinstance(axes_raw, list) or not axes_raw:
            self.problems.add(f"{where}.axes", "must be a non-empty list of axes")
            return None
        axes = []
        for i, a in enumerate(axes_raw):
            if not isinstance(a, Mapping) or "axis" not in a:
                self.problems.add(f"{where}.axes[{i}]", "must be an axis {axis, key, values}")
                continue
            axis = self.axis(a, f"{where}.axes[{i}]")
            if axis is not None:
                axes.append(axis)
        baseline_raw = raw.get("baseline")
        if not isinstance(baseline_raw, Mapping):
            self.problems.add(f"{where}.baseline", "must map every axis to its baseline label")
            return None
        baseline = {str(k): value_label(v) or "" for k, v in baseline_raw.items()}
        names = [a.name for a in axes]
        for k in baseline:
            if k not in names:
                self.problems.add(f"{where}.baseline.{k}", f"no axis {k!r}; axes: {names}")
        for axis in axes:
            labels = [v.label for v in axis.values]
            if axis.name not in baseline:
                self.problems.add(f"{where}.baseline", f"axis {axis.name!r} has no baseline")
            elif baseline[axis.name] not in labels:
                self.problems.add(
                    f"{where}.baseline.{axis.name}",
                    f"{baseline[axis.name]!r} is not a value of the axis; values: {labels}",
                )
        if self.problems or len(axes) != len(axes_raw):
            return None
        return OneAtATime(baseline, tuple(axes))

    def _unique(self, labels: list[str], where: str) -> None:
        seen = set()
        for label in labels:
            if label in seen:
                self.problems.add(where, f"duplicate label {label!r}: labels must be unique")
            seen.add(label)
