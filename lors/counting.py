"""Closed-form parameter counts of LORS_T, LORS_A and the plain stacks they replace.

Pure Python (no torch, not even indirectly): the harness counts parameters at plan time and the
analysis draws Table 1 and the parameters-vs-rank curves from here. The arguments have the names
and meanings of ``lors.layers.StaticLORS`` / ``AdaptiveLORS``, and every count equals the sum of
``numel()`` over the parameters of the built module (tests/lors/test_counting.py checks it).

Formulas (shared/docs/method.md sections 1 and 2), with K_i the groups of layer i:

- LORS_T: shared ``d_in*d_out``; private per layer ``K_i*r*(d_in + d_out) + d_out`` (bias).
- LORS_A: shared ``(d_q + 1) * E`` with ``E = count * sum(d_in*d_out)`` generated entries;
  private per layer ``(d_q + 1) * count * S * K_i * r^2 + count * K_i * r * sum(d_in + d_out)``
  (the core generator, then the outer factors L and R), S the number of weight specs.
- ``parts="shared"`` keeps only the shared part (LORS_T: one Linear with its bias for every
  layer); ``parts="private"`` keeps only the private part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lors.spec import WeightSpec, check_positive, resolve_adaptive, resolve_static

__all__ = [
    "ParamCount",
    "WeightSpec",
    "adaptive_lors_params",
    "plain_adaptive_params",
    "plain_static_params",
    "static_lors_params",
]


@dataclass(frozen=True)
class ParamCount:
    """Parameters of one stack of N layers, split into the shared part and each layer's own.

    Attributes:
        shared: parameters every layer uses (the shared weight or generator); 0 for plain stacks.
        private: parameters of each layer alone, one entry per layer.
    """

    shared: int
    private: tuple[int, ...]

    @property
    def num_layers(self) -> int:
        """N, the number of layers in the stack."""
        return len(self.private)

    @property
    def total(self) -> int:
        """All parameters of the stack: shared plus every layer's private ones."""
        return self.shared + sum(self.private)

    @property
    def per_layer(self) -> float:
        """Average parameters per layer, ``total / N`` (the quantity of the paper's Table 1)."""
        return self.total / self.num_layers

    def __add__(self, other: ParamCount) -> ParamCount:
        """Sum two stacks of the same depth layer by layer (e.g. LORS_A + LORS_T of a decoder)."""
        if other.num_layers != self.num_layers:
            raise ValueError(
                f"cannot add counts of {self.num_layers} and {other.num_layers} layers"
            )
        private = tuple(a + b for a, b in zip(self.private, other.private, strict=True))
        return ParamCount(self.shared + other.shared, private)


def static_lors_params(
    in_features: int,
    out_features: int,
    num_layers: int,
    rank: int,
    groups: int | Sequence[int] = 1,
    parts: str = "both",
    bias: bool = True,
) -> ParamCount:
    """Parameters of LORS_T over ``num_layers`` Linear(in_features -> out_features) maps.

    Args:
        in_features: input features of each map (d_in).
        out_features: output features of each map (d_out).
        num_layers: N, maps in the stack.
        rank: r of each private pair.
        groups: K, pairs per layer: one int, or one per layer.
        parts: ``both``, ``shared`` or ``private``.
        bias: whether the maps have a bias (private per layer; shared when ``parts="shared"``).

    Raises:
        ConfigError: an argument out of range (see ``lors.spec``).
    """
    a = resolve_static(in_features, out_features, num_layers, rank, groups, parts, bias)
    weight = a.in_features * a.out_features
    bias_n = a.out_features if a.bias else 0
    if a.parts == "shared":
        return ParamCount(weight + bias_n, (0,) * a.num_layers)
    pairs = tuple(k * a.rank * (a.in_features + a.out_features) + bias_n for k in a.groups)
    return ParamCount(weight if a.parts == "both" else 0, pairs)


def plain_static_params(
    in_features: int, out_features: int, num_layers: int, bias: bool = True
) -> ParamCount:
    """Parameters of ``num_layers`` independent Linear(in_features -> out_features) maps."""
    in_features = check_positive("in_features", in_features)
    out_features = check_positive("out_features", out_features)
    num_layers = check_positive("num_layers", num_layers)
    per = in_features * out_features + (out_features if bias else 0)
    return ParamCount(0, (per,) * num_layers)


def adaptive_lors_params(
    query_dim: int,
    weights: Sequence[WeightSpec],
    num_layers: int,
    rank: int,
    groups: int | Sequence[int] = 1,
    parts: str = "both",
) -> ParamCount:
    """Parameters of LORS_A generating ``weights`` from a ``query_dim`` vector in N layers.

    Args:
        query_dim: d_q, size of the query vector the weights are generated from.
        weights: the generated weights (AdaMixer: ``M`` and ``S``, each ``count`` = G times).
        num_layers: N, layers in the stack.
        rank: r of the outer factors and of the generated ``r x r`` cores.
        groups: K, pairs per layer: one int, or one per layer.
        parts: ``both``, ``shared`` or ``private``.

    Raises:
        ConfigError: an argument out of range (see ``lors.spec``).
    """
    a = resolve_adaptive(query_dim, weights, num_layers, rank, groups, parts)
    shared = (a.query_dim + 1) * a.generated
    if a.parts == "shared":
        return ParamCount(shared, (0,) * a.num_layers)
    cores = (a.query_dim + 1) * a.count * len(a.weights) * a.rank**2
    outer = a.count * a.rank * sum(s.d_in + s.d_out for s in a.weights)
    private = tuple(k * (cores + outer) for k in a.groups)
    return ParamCount(shared if a.parts == "both" else 0, private)


def plain_adaptive_params(
    query_dim: int, weights: Sequence[WeightSpec], num_layers: int
) -> ParamCount:
    """Parameters of N independent generators Linear(query_dim -> all entries of ``weights``),
    as in plain AdaMixer (one generator per stage, with bias)."""
    a = resolve_adaptive(query_dim, weights, num_layers, 1, 1, "both")
    return ParamCount(0, ((a.query_dim + 1) * a.generated,) * a.num_layers)
