"""What a LORS stack is made of, and the checks on it: pure Python, shared by layers and counting.

``lors.layers`` (torch) and ``lors.counting`` (no torch) take the same arguments; both validate
them here, so a bad argument fails the same way at plan time and at build time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lors.errors import ConfigError

LORS_PARTS: tuple[str, ...] = ("both", "shared", "private")
"""``both``: shared weight + private term (the method); ``shared``: one weight for every layer,
no private parameter; ``private``: no shared weight, each layer is its private term only."""

PATHS: tuple[str, ...] = ("auto", "materialized", "fused", "factorized")
"""How LORS_A applies a generated weight (all give the same result, see ``lors.layers.paths``)."""


@dataclass(frozen=True)
class WeightSpec:
    """One generated weight of LORS_A, repeated ``count`` times (AdaMixer: ``count`` = groups G).

    The weight is applied as ``y = x @ W`` with ``W`` of shape ``(d_in, d_out)``.

    Attributes:
        name: key of the weight (e.g. ``"M"`` for channel mixing, ``"S"`` for spatial mixing);
            a Python identifier, since it names parameters.
        count: copies of the weight per query (one per group).
        d_in: rows of the weight (features of the input it multiplies).
        d_out: columns of the weight (features of the output).
    """

    name: str
    count: int
    d_in: int
    d_out: int

    @property
    def numel(self) -> int:
        """Entries of one copy of the weight (``d_in * d_out``)."""
        return self.d_in * self.d_out


def check_positive(name: str, value: object) -> int:
    """Return ``value`` if it is an int >= 1 (bool excluded), else raise ``ConfigError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name}={value!r} is invalid: expected an integer >= 1")
    return value


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise ``ConfigError`` listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{name}={value!r} is invalid: expected one of {', '.join(choices)}")
    return value


def check_groups(groups: int | Sequence[int], num_layers: int) -> tuple[int, ...]:
    """Resolve ``groups`` (one K for all layers, or one per layer) to a tuple of ``num_layers``.

    Raises:
        ConfigError: a K < 1, or a list whose length is not ``num_layers``.
    """
    num_layers = check_positive("num_layers", num_layers)
    if isinstance(groups, int) and not isinstance(groups, bool):
        return (check_positive("groups", groups),) * num_layers
    if isinstance(groups, str) or not isinstance(groups, Sequence):
        raise ConfigError(
            f"groups={groups!r} is invalid: expected an integer >= 1 or a list of "
            f"{num_layers} of them (one per layer)"
        )
    if len(groups) != num_layers:
        raise ConfigError(
            f"groups={list(groups)!r} has {len(groups)} entries: expected one integer for all "
            f"layers or exactly num_layers={num_layers} entries"
        )
    return tuple(check_positive(f"groups[{i}]", k) for i, k in enumerate(groups))


def check_rank(rank: object, shapes: Sequence[tuple[int, int]]) -> int:
    """Check ``1 <= rank <= min(d_in, d_out)`` over every ``(d_in, d_out)`` in ``shapes``."""
    limit = min(min(shape) for shape in shapes)
    if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= limit:
        raise ConfigError(
            f"rank={rank!r} is invalid: expected an integer in 1..{limit} "
            f"(at most min(d_in, d_out) of every weight)"
        )
    return rank


def check_weight_specs(weights: Sequence[WeightSpec]) -> tuple[WeightSpec, ...]:
    """Check the weight specs of LORS_A: at least one, unique identifier names, positive sizes and
    one common ``count`` (the generator layout is group-major across the specs)."""
    specs = tuple(weights)
    if not specs or not all(isinstance(s, WeightSpec) for s in specs):
        raise ConfigError(f"weights={specs!r} is invalid: expected a non-empty list of WeightSpec")
    for s in specs:
        if not s.name.isidentifier():
            raise ConfigError(
                f"WeightSpec name={s.name!r} is invalid: expected a Python identifier"
            )
        for field in ("count", "d_in", "d_out"):
            check_positive(f"WeightSpec({s.name}).{field}", getattr(s, field))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ConfigError(f"weights names={names!r} are invalid: expected unique names")
    counts = sorted({s.count for s in specs})
    if len(counts) != 1:
        raise ConfigError(
            f"weights counts={counts!r} are invalid: every WeightSpec needs the same count "
            f"(the generators are laid out group-major across the weights)"
        )
    return specs


@dataclass(frozen=True)
class StaticArgs:
    """The checked arguments of a LORS_T stack (see ``resolve_static``)."""

    in_features: int
    out_features: int
    num_layers: int
    rank: int
    groups: tuple[int, ...]
    parts: str
    bias: bool


@dataclass(frozen=True)
class AdaptiveArgs:
    """The checked arguments of a LORS_A stack (see ``resolve_adaptive``)."""

    query_dim: int
    weights: tuple[WeightSpec, ...]
    num_layers: int
    rank: int
    groups: tuple[int, ...]
    parts: str

    @property
    def count(self) -> int:
        """The common ``count`` of every weight spec (groups G in AdaMixer)."""
        return self.weights[0].count

    @property
    def generated(self) -> int:
        """Entries the shared generator produces per query: ``count * sum(d_in * d_out)``."""
        return self.count * sum(s.numel for s in self.weights)


def resolve_static(
    in_features: int,
    out_features: int,
    num_layers: int,
    rank: int,
    groups: int | Sequence[int] = 1,
    parts: str = "both",
    bias: bool = True,
) -> StaticArgs:
    """Check the arguments of a LORS_T stack and return them resolved (K per layer)."""
    in_features = check_positive("in_features", in_features)
    out_features = check_positive("out_features", out_features)
    per_layer = check_groups(groups, num_layers)
    rank = check_rank(rank, [(in_features, out_features)])
    parts = check_choice("parts", parts, LORS_PARTS)
    return StaticArgs(in_features, out_features, num_layers, rank, per_layer, parts, bool(bias))


def resolve_adaptive(
    query_dim: int,
    weights: Sequence[WeightSpec],
    num_layers: int,
    rank: int,
    groups: int | Sequence[int] = 1,
    parts: str = "both",
) -> AdaptiveArgs:
    """Check the arguments of a LORS_A stack and return them resolved (K per layer)."""
    query_dim = check_positive("query_dim", query_dim)
    specs = check_weight_specs(weights)
    per_layer = check_groups(groups, num_layers)
    rank = check_rank(rank, [(s.d_in, s.d_out) for s in specs])
    parts = check_choice("parts", parts, LORS_PARTS)
    return AdaptiveArgs(query_dim, specs, num_layers, rank, per_layer, parts)
