"""Expand a spec's axis operators into cells: grid, zip, one_at_a_time, cases, then seeds."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.spec.model import (
    Axis,
    Cases,
    Cell,
    Grid,
    Node,
    OneAtATime,
    Profile,
    ResourceOverlay,
    Zip,
)

if TYPE_CHECKING:
    from harness.spec.model import SweepSpec


@dataclass(frozen=True)
class Point:
    """A cell before seeds: its coordinates, the overrides it sets, its resource overlays."""

    coords: dict[str, str]
    overrides: dict[str, Any]
    overlays: tuple[ResourceOverlay, ...]
    base: Path | None = None


def count_points(node: Node) -> int:
    """How many points ``node`` expands to, computed without expanding it (a grid's size is the
    product of its children's: a few short axes can multiply to millions)."""
    if isinstance(node, Axis):
        return len(node.values)
    if isinstance(node, Cases):
        return len(node.items)
    if isinstance(node, Grid):
        return math.prod(count_points(c) for c in node.children)
    if isinstance(node, Zip):
        return max((count_points(c) for c in node.children), default=0)
    return 1 + sum(len(axis.values) - 1 for axis in node.axes)


def _join(points: tuple[Point, ...]) -> Point:
    coords: dict[str, str] = {}
    overrides: dict[str, Any] = {}
    overlays: tuple[ResourceOverlay, ...] = ()
    base = None
    for p in points:
        coords.update(p.coords)
        overrides.update(p.overrides)
        overlays += p.overlays
        base = p.base or base  # the loader allows one cases block with bases per spec
    return Point(coords, overrides, overlays, base)


def points(node: Node, profile: str | None = None) -> list[Point]:
    """The points of an operator tree in a profile, in spec order (a grid's first child varies
    slowest). Without a profile, cases carry only the overrides common to every profile."""
    if isinstance(node, Axis):
        return [
            Point({node.name: v.label}, {node.key: v.value}, (v.resources,)) for v in node.values
        ]
    if isinstance(node, Cases):
        return [
            Point(
                {node.name: c.label},
                {**c.overrides, **c.by_profile.get(profile or "", {})},
                (c.resources,),
                c.base.get(profile or ""),
            )
            for c in node.items
        ]
    if isinstance(node, Grid):
        kids = [points(c, profile) for c in node.children]
        return [_join(combo) for combo in itertools.product(*kids)]
    if isinstance(node, Zip):
        kids = [points(c, profile) for c in node.children]
        return [_join(combo) for combo in zip(*kids, strict=True)]
    return list(_one_at_a_time(node))


def _one_at_a_time(node: OneAtATime) -> Iterator[Point]:
    base_values = {
        axis.name: next(v for v in axis.values if v.label == node.baseline[axis.name])
        for axis in node.axes
    }

    def point(varied: Axis | None, label: str | None) -> Point:
        coords, overrides, overlays = {}, {}, []
        for axis in node.axes:
            chosen = base_values[axis.name]
            if axis is varied:
                chosen = next(v for v in axis.values if v.label == label)
            coords[axis.name] = chosen.label
            overrides[axis.key] = chosen.value
            overlays.append(chosen.resources)
        return Point(coords, overrides, tuple(overlays))

    yield point(None, None)
    for axis in node.axes:
        for value in axis.values:
            if value.label != node.baseline[axis.name]:
                yield point(axis, value.label)


def _kept(coords: dict[str, str], profile: Profile) -> bool:
    return all(coords.get(axis, labels[0]) in labels for axis, labels in profile.subset.items())


def cell_label(coords: dict[str, str], seed: int | None) -> str:
    """``K=2,r=16,seed=0``: the axes in spec order, then the seed."""
    parts = [f"{axis}={label}" for axis, label in coords.items()]
    if seed is not None:
        parts.append(f"seed={seed}")
    return ",".join(parts)


_UNSAFE = re.compile(r"[^A-Za-z0-9._=,+\-\[\]]")


def label_slug(label: str) -> str:
    """The label as a folder-name-safe string (other characters become ``_``)."""
    return _UNSAFE.sub("_", label)


def expand_cells(spec: SweepSpec, profile: Profile) -> list[Cell]:
    """Every cell of ``spec`` in ``profile``: the points kept by its subset, times the seeds."""
    seeds: tuple[int | None, ...] = spec.seeds_of(profile) or (None,)
    cells = []
    for p in points(spec.axes, profile.name):
        if not _kept(p.coords, profile):
            continue
        resources = profile.resources
        for overlay in p.overlays:
            resources = overlay.apply(resources, profile.name)
        for seed in seeds:
            overrides = dict(p.overrides)
            if seed is not None:
                overrides[spec.seed_key] = seed
            label = cell_label(p.coords, seed)
            cells.append(Cell(label, p.coords, seed, overrides, resources, p.base))
    return cells


def axis_values(node: Node, profile: Profile) -> dict[str, list[str]]:
    """Axis name -> value labels in spec order, as kept by the profile's subset."""
    out: dict[str, list[str]] = {}

    def walk(n: Node) -> None:
        if isinstance(n, Axis):
            out[n.name] = [v.label for v in n.values]
        elif isinstance(n, Cases):
            out[n.name] = [c.label for c in n.items]
        elif isinstance(n, OneAtATime):
            for axis in n.axes:
                walk(axis)
        else:
            for child in n.children:
                walk(child)

    walk(node)
    for axis, labels in profile.subset.items():
        if axis in out:
            out[axis] = [label for label in out[axis] if label in labels]
    return out
