"""Batched products of the LORS_A kernels, one group at a time, without copying x or W.

The private factors L and R are the same for every query; the cores Z and the inputs differ per
query. Each product here is one ``bmm`` over the B queries of a group: L and R are broadcast
through a stride-0 ``expand`` and x, W and their gradients are read in place through strided
views, so none of the large per-query tensors is copied into another layout (on the CPUs
measured, such a copy costs as much as the product). Outputs are always fresh contiguous tensors:
writing a product into a strided slice (``out=`` or in-place) falls back to one small product
per query, many times slower.

Shapes for one group: cores (B, K, r, r), left (d_in, K, r), right (K, r, d_out).
"""

from __future__ import annotations

import torch


def broadcast(t: torch.Tensor, b: int) -> torch.Tensor:
    """(p, q) -> (B, p, q) without copying (stride 0 over the queries)."""
    return t.expand(b, *t.shape)


def left_cores(left: torch.Tensor, cores: torch.Tensor) -> torch.Tensor:
    """``P = [L_1 Z_1, .., L_K Z_K]`` per query: (B, d_in, K*r)."""
    b = cores.shape[0]
    blocks = [torch.bmm(broadcast(left[:, i], b), cores[:, i]) for i in range(cores.shape[1])]
    return blocks[0] if len(blocks) == 1 else torch.cat(blocks, dim=2)  # K x (B, d_in, r)


def cores_right(cores: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """``Q = [Z_1 R_1; ..; Z_K R_K]`` per query: (B, K*r, d_out)."""
    b = cores.shape[0]
    blocks = [torch.bmm(cores[:, i], broadcast(right[i], b)) for i in range(cores.shape[1])]
    return blocks[0] if len(blocks) == 1 else torch.cat(blocks, dim=1)  # K x (B, r, d_out)


def sum_over_queries(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``sum_q a_q b_q``: (B, p, s) @ (B, s, t) -> (p, t)."""
    return torch.bmm(a, b).sum(0)


def cores_grad_from_left(
    left: torch.Tensor, grad_p: torch.Tensor, cores: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients of ``P = L Z`` (``left_cores``) given ``dP`` (B, d_in, K*r).

    Returns:
        ``(dZ, dL)``: (B, K, r, r) and (d_in, K, r).
    """
    b, k, r, _ = cores.shape
    grad_z, grad_l = [], []
    for i in range(k):
        gp = grad_p[:, :, i * r : (i + 1) * r]  # (B, d_in, r), a strided view
        grad_z.append(torch.bmm(broadcast(left[:, i].t(), b), gp))  # (B, r, r)
        grad_l.append(sum_over_queries(gp, cores[:, i].transpose(1, 2)))  # (d_in, r)
    return torch.stack(grad_z, dim=1), torch.stack(grad_l, dim=1)


def cores_grad_from_right(
    grad_q: torch.Tensor, cores: torch.Tensor, right: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gradients of ``Q = Z R`` (``cores_right``) given ``dQ`` (B, K*r, d_out).

    Returns:
        ``(dZ, dR)``: (B, K, r, r) and (K, r, d_out).
    """
    b, k, r, _ = cores.shape
    grad_z, grad_r = [], []
    for i in range(k):
        gq = grad_q[:, i * r : (i + 1) * r]  # (B, r, d_out), a strided view
        grad_z.append(torch.bmm(gq, broadcast(right[i].t(), b)))  # (B, r, r)
        grad_r.append(sum_over_queries(cores[:, i].transpose(1, 2), gq))  # (r, d_out)
    return torch.stack(grad_z, dim=1), torch.stack(grad_r, dim=0)
