"""The three ways LORS_A applies a generated weight, one result (``y = x @ W(q)``).

Shapes, for one weight spec (B queries, c groups, K pairs of rank r, ``m = K r``):

- ``x`` (B, c, n, d_in); the result ``y`` (B, c, n, d_out).
- ``shared`` (B, c, d_in, d_out): the shared generator's weight (may be a strided view), or None
  when ``parts="private"``.
- ``cores`` (B, c, K, r, r): the generated cores ``Z``, or None when ``parts="shared"``.
- ``left`` (c, d_in, K, r): ``L_{g,k} = left[g, :, k]``; ``right`` (c, K, r, d_out).

``materialized`` is the release's arithmetic (K per-query matrices, stacked with the shared one
and summed); ``fused`` (lors.layers.fused) forms only the per-query total weight;
``factorized`` (lors.layers.factorized) never forms a per-query (d_in, d_out) matrix beyond the
shared one. ``lors.layers.cost`` says which is cheapest.
"""

from __future__ import annotations

import torch

from lors.layers.factorized import factorized_apply
from lors.layers.fused import fused_apply

KERNEL_PATHS: tuple[str, ...] = ("materialized", "fused", "factorized")


def private_stack(cores: torch.Tensor, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """The K per-query private matrices ``L_k Z_k R_k`` as the release forms them.

    Returns:
        (B, c, K, d_in, d_out).
    """
    left_k = left.permute(0, 2, 1, 3)  # (c, d_in, K, r) -> (c, K, d_in, r)
    lz = left_k.unsqueeze(0) @ cores  # (1, c, K, d_in, r) @ (B, c, K, r, r) -> (B, c, K, d_in, r)
    return lz @ right.unsqueeze(0)  # (B, c, K, d_in, r) @ (1, c, K, r, d_out) -> (B,c,K,d_in,d_out)


def materialize(
    shared: torch.Tensor | None,
    cores: torch.Tensor | None,
    left: torch.Tensor | None,
    right: torch.Tensor | None,
) -> torch.Tensor:
    """The full per-query weight ``W(q)`` the way the release forms it: the shared weight and the
    K private matrices stacked on one axis and summed.

    Returns:
        (B, c, d_in, d_out).
    """
    parts = []
    if shared is not None:
        parts.append(shared.unsqueeze(2))  # (B, c, d_in, d_out) -> (B, c, 1, d_in, d_out)
    if cores is not None:
        assert left is not None and right is not None
        parts.append(private_stack(cores, left, right))
    return torch.cat(parts, dim=2).sum(dim=2)  # (B, c, 1 + K, d_in, d_out) -> (B, c, d_in, d_out)


def apply_weight(
    path: str,
    x: torch.Tensor,
    shared: torch.Tensor | None,
    cores: torch.Tensor | None,
    left: torch.Tensor | None,
    right: torch.Tensor | None,
) -> torch.Tensor:
    """``x @ W(q)`` by one of ``KERNEL_PATHS`` (see the module docstring for the shapes)."""
    if cores is None:
        assert shared is not None
        return torch.matmul(x, shared)
    assert left is not None and right is not None
    if path == "materialized":
        return torch.matmul(x, materialize(shared, cores, left, right))
    if path == "fused":
        return fused_apply(x, shared, cores, left, right)
    if path == "factorized":
        return factorized_apply(x, shared, cores, left, right)
    raise ValueError(f"path={path!r} is not one of {', '.join(KERNEL_PATHS)}")
