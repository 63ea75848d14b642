"""Plan a conversion from the model a config builds, check a release state dict against it, and
convert both ways.

The plan lists, for every key of this project's ``state_dict``, the release's key, the release's
shape and the layout kind. The release's shapes are not written down twice: each is what the
kind's ``ours -> release`` function makes of our shape (run on a meta tensor), so a shape in the
plan is exactly the shape the conversion accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from lors.convert.errors import ConvertError
from lors.convert.names import RULES, Rule
from lors.convert.permute import KINDS, Dims


@dataclass(frozen=True)
class Entry:
    """One tensor of the conversion."""

    ours: str
    release: str
    kind: str
    layer: int
    ours_shape: tuple[int, ...]
    release_shape: tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    """Every tensor of one model, in its state dict's order."""

    release: str
    dims: Dims
    entries: tuple[Entry, ...]

    def by_release(self) -> dict[str, Entry]:
        return {e.release: e for e in self.entries}


def _match(rules: tuple[Rule, ...], key: str) -> tuple[Rule, dict[str, str]] | None:
    for rule in rules:
        found = rule.pattern().match(key)
        if found:
            return rule, found.groupdict()
    return None


def make_plan(release: str, shapes: Mapping[str, tuple[int, ...]], dims: Dims) -> Plan:
    """The plan for a model whose ``state_dict`` has these ``shapes``.

    Raises:
        ConvertError: a key of the model that no rule of ``release`` names (the config builds a
            model the release never had).
    """
    rules = RULES[release]
    entries = []
    for key, shape in shapes.items():
        found = _match(rules, key)
        if found is None:
            raise ConvertError(
                f"the config's model has {key!r}, which no {release} tensor maps to: "
                "convert with the config of the release's model"
            )
        rule, fields = found
        layer = int(fields.get("i", 0))
        to_release = KINDS[rule.kind][1]
        meta = torch.empty(shape, device="meta")
        release_shape = tuple(to_release(meta, dims, layer).shape)
        entries.append(
            Entry(key, rule.release.format(**fields), rule.kind, layer, tuple(shape), release_shape)
        )
    return Plan(release, dims, tuple(entries))


def problems(plan: Plan, state: Mapping[str, torch.Tensor]) -> list[str]:
    """What keeps ``state`` (a release state dict) from converting by ``plan``: missing, extra
    and wrongly shaped keys, each as a short phrase; empty when it converts."""
    expected = plan.by_release()
    out = []
    for name, entry in expected.items():
        if name not in state:
            out.append(f"key {name!r} is missing (expected shape {entry.release_shape})")
        elif tuple(state[name].shape) != entry.release_shape:
            got = tuple(state[name].shape)
            out.append(f"key {name!r} has shape {got}, expected {entry.release_shape}")
    out += [f"key {name!r} is not part of the release" for name in state if name not in expected]
    return out


def from_release(plan: Plan, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """This project's state dict from a release one that ``problems`` passed."""
    return {
        e.ours: KINDS[e.kind][0](state[e.release], plan.dims, e.layer).contiguous()
        for e in plan.entries
    }


def to_release(plan: Plan, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The release's state dict from this project's (the inverse of ``from_release``)."""
    return {
        e.release: KINDS[e.kind][1](state[e.ours], plan.dims, e.layer).contiguous()
        for e in plan.entries
    }
