"""The layout changes between the releases' tensors and this project's (docs/release-layouts.md).

Each kind is a pair of functions ``release -> ours`` and ``ours -> release``, exact inverses of
each other (pure index permutations and reshapes: no value changes). The sizes come from
:class:`Dims`, read off the model the config builds.

Why the layouts differ: this project applies every mixing weight as ``y = x @ W`` with ``W``
``(d_in, d_out)``, so its spatial weight is ``S`` transposed against the release's
``(P_out, P_in)``; it flattens the mixed features as ``(G, C_g, P_out)`` where the release
flattens ``(G, P_out, C_g)``; and its core generator is group-major where the release's is
weight-major.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

Tensor = torch.Tensor


@dataclass(frozen=True)
class Dims:
    """The decoder sizes a conversion needs.

    Attributes:
        groups: ``G``, sampling groups.
        group_channels: ``C_g = C / G``.
        in_points: ``P_in``.
        out_points: ``P_out``.
        rank: ``r`` of the adaptive cores (0 without LORS).
        pairs: ``K_i`` per stage (empty without LORS).
    """

    groups: int
    group_channels: int
    in_points: int
    out_points: int
    rank: int = 0
    pairs: tuple[int, ...] = ()


def same(t: Tensor, d: Dims, layer: int) -> Tensor:
    return t


def _generator_rows(t: Tensor, d: Dims, s_shape: tuple[int, int]) -> Tensor:
    """Transpose the per-group ``S`` block of a generator output axis (dim 0), read as
    ``s_shape``; the ``M`` block before it stays."""
    m_size = d.group_channels**2
    rest = t.shape[1:]
    per_group = t.reshape(d.groups, m_size + d.in_points * d.out_points, *rest)
    m, s = per_group[:, :m_size], per_group[:, m_size:]
    s = s.reshape(d.groups, *s_shape, *rest).transpose(1, 2)  # (G, a, b) -> (G, b, a)
    return torch.cat([m, s.reshape(d.groups, -1, *rest)], dim=1).reshape(t.shape)


def generator_from_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    # release S is (P_out, P_in) row-major; ours (P_in, P_out)
    return _generator_rows(t, d, (d.out_points, d.in_points))


def generator_to_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    return _generator_rows(t, d, (d.in_points, d.out_points))


def cores_from_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    """Release ``(weight, G, K, r, r)`` with ``S``'s core ``Z_S``; ours ``(G, weight, K, r, r)``
    with ``Z_S`` transposed (ours builds ``S^T = sr^T Z_S^T sl^T``)."""
    k, r, rest = d.pairs[layer], d.rank, t.shape[1:]
    rel = t.reshape(2, d.groups, k, r, r, *rest)
    m, s = rel[0], rel[1].transpose(2, 3)  # (G, K, r, r, ...)
    return torch.stack([m, s], dim=1).reshape(t.shape)  # (G, 2, K, r, r, ...)


def cores_to_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    k, r, rest = d.pairs[layer], d.rank, t.shape[1:]
    ours = t.reshape(d.groups, 2, k, r, r, *rest)
    m, s = ours[:, 0], ours[:, 1].transpose(2, 3)
    return torch.stack([m, s], dim=0).reshape(t.shape)  # (2, G, K, r, r, ...)


def left_m_from_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    # ml (G*K, C_g, r) -> (G, K, C_g, r) -> ours (G, C_g, K, r)
    k = d.pairs[layer]
    return t.reshape(d.groups, k, d.group_channels, d.rank).permute(0, 2, 1, 3)


def left_m_to_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    # ours (G, C_g, K, r) -> (G, K, C_g, r) -> ml (G*K, C_g, r)
    return t.permute(0, 2, 1, 3).reshape(-1, d.group_channels, d.rank)


def right_m_from_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    # mr (G*K, r, C_g) -> ours (G, K, r, C_g)
    return t.reshape(d.groups, d.pairs[layer], d.rank, d.group_channels)


def right_m_to_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    return t.reshape(-1, d.rank, d.group_channels)


def left_s_from_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    # sr (G*K, r, P_in) -> (G, K, r, P_in) -> ours L_S (G, P_in, K, r) = sr^T per pair
    k = d.pairs[layer]
    return t.reshape(d.groups, k, d.rank, d.in_points).permute(0, 3, 1, 2)


def left_s_to_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    # ours (G, P_in, K, r) -> (G, K, r, P_in) -> sr (G*K, r, P_in)
    return t.permute(0, 2, 3, 1).reshape(-1, d.rank, d.in_points)


def right_s_from_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    # sl (G*K, P_out, r) -> (G, K, P_out, r) -> ours R_S (G, K, r, P_out) = sl^T per pair
    k = d.pairs[layer]
    return t.reshape(d.groups, k, d.out_points, d.rank).transpose(2, 3)


def right_s_to_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    return t.transpose(2, 3).reshape(-1, d.out_points, d.rank)


def _flat_columns(t: Tensor, d: Dims, inner: tuple[int, int]) -> Tensor:
    """Swap the two inner axes of the last axis, read as ``(G, *inner)``."""
    lead = t.shape[:-1]
    return t.reshape(*lead, d.groups, *inner).transpose(-1, -2).reshape(t.shape)


def columns_from_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    # release flattens (G, P_out, C_g), ours (G, C_g, P_out)
    return _flat_columns(t, d, (d.out_points, d.group_channels))


def columns_to_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    return _flat_columns(t, d, (d.group_channels, d.out_points))


def static_a_from_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    # A (r, flat) -> ours (K=1, r, flat), columns reordered
    return columns_from_release(t, d, layer).unsqueeze(0)


def static_a_to_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    return columns_to_release(t.squeeze(0), d, layer)


def static_b_from_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    return t.unsqueeze(1)  # B (out, r) -> ours (out, K=1, r)


def static_b_to_release(t: Tensor, d: Dims, layer: int) -> Tensor:
    return t.squeeze(1)


Transform = Callable[[Tensor, Dims, int], Tensor]

#: kind -> (release -> ours, ours -> release); ``same`` is the only kind that is not a permutation
KINDS: dict[str, tuple[Transform, Transform]] = {
    "same": (same, same),
    "generator": (generator_from_release, generator_to_release),
    "cores": (cores_from_release, cores_to_release),
    "left_M": (left_m_from_release, left_m_to_release),
    "right_M": (right_m_from_release, right_m_to_release),
    "left_S": (left_s_from_release, left_s_to_release),
    "right_S": (right_s_from_release, right_s_to_release),
    "columns": (columns_from_release, columns_to_release),
    "static_A": (static_a_from_release, static_a_to_release),
    "static_B": (static_b_from_release, static_b_to_release),
}
