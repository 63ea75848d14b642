"""The ``fused`` path of LORS_A: ``y = x (W_shared + (L Z) R)``, K folded into one product.

Only the per-query total weight is formed (plain AdaMixer forms one of that size too): the K
pairs of rank r are one product of inner size ``m = K r`` accumulated onto the shared weight,
``W = W_shared + P R`` with ``P = [L_1 Z_1, .., L_K Z_K]``. For backward it keeps the inputs only
(x, the shared weight, the cores) and forms ``P`` and ``W`` again, so it saves nothing beyond
what plain AdaMixer saves but the r x r cores.

Shapes as in lors.layers.paths: x (B, c, n, d_in), shared (B, c, d_in, d_out) or None,
cores (B, c, K, r, r), left (c, d_in, K, r), right (c, K, r, d_out).
"""

from __future__ import annotations

from typing import Any

import torch

from lors.layers.amp import cast, compute_dtype, grad_like
from lors.layers.lowrank import broadcast, cores_grad_from_left, left_cores


def _weights(
    shared: torch.Tensor | None, cores: torch.Tensor, left: torch.Tensor, right: torch.Tensor
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """``W = W_shared + P R`` per query (B, c, d_in, d_out), and ``P`` of every group."""
    b, c, k, r, _ = cores.shape
    d_out = right.shape[-1]
    blocks, ps = [], []
    for g in range(c):
        p = left_cores(left[g], cores[:, g])  # (B, d_in, m)
        r_g = broadcast(right[g].reshape(k * r, d_out), b)  # (K, r, d_out) -> (B, m, d_out)
        blocks.append(torch.bmm(p, r_g) if shared is None else torch.baddbmm(shared[:, g], p, r_g))
        ps.append(p)
    return torch.stack(blocks, dim=1), ps  # c x (B, d_in, d_out) -> (B, c, d_in, d_out)


class _FusedApply(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        x: torch.Tensor,
        shared: torch.Tensor | None,
        cores: torch.Tensor,
        left: torch.Tensor,
        right: torch.Tensor,
    ) -> torch.Tensor:
        dtype = compute_dtype(x, shared, cores, left, right)
        ctx.dtype = dtype
        ctx.save_for_backward(x, shared, cores, left, right)
        with torch.autocast(x.device.type, enabled=False):
            xc, sc, zc, lc, rc = (cast(t, dtype) for t in (x, shared, cores, left, right))
            assert xc is not None and zc is not None and lc is not None and rc is not None
            weight, _ = _weights(sc, zc, lc, rc)
            return torch.matmul(xc, weight)  # (B, c, n, d_in) @ (B, c, d_in, d_out)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad_y: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, shared, cores, left, right = ctx.saved_tensors
        need_x, need_shared, need_cores, need_left, need_right = ctx.needs_input_grad
        b, c, k, r, _ = cores.shape
        d_in, d_out = left.shape[1], right.shape[-1]
        with torch.autocast(x.device.type, enabled=False):
            gy, xc, sc, zc, lc, rc = (
                cast(t, ctx.dtype) for t in (grad_y, x, shared, cores, left, right)
            )
            assert gy is not None and xc is not None and zc is not None
            assert lc is not None and rc is not None
            weight, ps = _weights(sc, zc, lc, rc)
            grad_x = torch.matmul(gy, weight.transpose(-1, -2)) if need_x else None
            del weight
            # dW group-major, so that the B*d_in rows of one group form one matrix
            grad_w = gy.new_empty(c, b, d_in, d_out)
            grad_cores: list[torch.Tensor] = []
            grad_left: list[torch.Tensor] = []
            grad_right: list[torch.Tensor] = []
            for g in range(c):
                # (B, n, d_in)^T @ (B, n, d_out) -> (B, d_in, d_out)
                torch.bmm(xc[:, g].transpose(1, 2), gy[:, g], out=grad_w[g])
                rows = grad_w[g].view(b * d_in, d_out)  # (B, d_in, d_out) -> (B*d_in, d_out)
                if need_right:
                    # (B*d_in, m)^T @ (B*d_in, d_out) -> (m, d_out) -> (K, r, d_out)
                    grad_right.append((ps[g].view(b * d_in, k * r).t() @ rows).view(k, r, d_out))
                if need_cores or need_left:
                    # (B*d_in, d_out) @ (d_out, m) -> (B*d_in, m) -> (B, d_in, m)
                    grad_p = (rows @ rc[g].reshape(k * r, d_out).t()).view(b, d_in, k * r)
                    gz, gl = cores_grad_from_left(lc[g], grad_p, zc[:, g])
                    grad_cores.append(gz)
                    grad_left.append(gl)
        return (
            grad_like(grad_x, x),
            # (c, B, d_in, d_out) -> (B, c, d_in, d_out), a strided view
            grad_like(grad_w.transpose(0, 1), shared) if need_shared else None,
            grad_like(torch.stack(grad_cores, dim=1), cores) if need_cores else None,
            grad_like(torch.stack(grad_left), left) if need_left else None,
            grad_like(torch.stack(grad_right), right) if need_right else None,
        )


def fused_apply(
    x: torch.Tensor,
    shared: torch.Tensor | None,
    cores: torch.Tensor,
    left: torch.Tensor,
    right: torch.Tensor,
) -> torch.Tensor:
    """``x @ (W_shared + sum_k L_k Z_k R_k)`` forming only the total per-query weight.

    Returns:
        (B, c, n, d_out).
    """
    out = _FusedApply.apply(x, shared, cores, left, right)
    assert isinstance(out, torch.Tensor)
    return out
