"""The ``factorized`` path of LORS_A: ``y = x W_shared + (x L) (Z R)``, no per-query weight.

``x W_i(q) = x W_shared(q) + sum_k ((x L_k) Z_k(q)) R_k``. With ``m = K r`` the K pairs are one
product ``u = x [L_1 .. L_K]`` (n x m per query), and the cores are folded into the right factor,
``Q = [Z_1 R_1; ..; Z_K R_K]`` (m x d_out per query, r times cheaper to form than a
d_in x d_out weight), so the private term is ``u Q``: two products of inner size d_in and m,
accumulated into the shared product's output. No per-query (d_in, d_out) matrix is formed
beyond the shared one. For backward it keeps the inputs only (x, which the shared product needs
anyway, the shared weight and the cores) and forms ``u`` and ``Q`` again.

Shapes as in lors.layers.paths: x (B, c, n, d_in), shared (B, c, d_in, d_out) or None,
cores (B, c, K, r, r), left (c, d_in, K, r), right (c, K, r, d_out); the result (B, c, n, d_out).
"""

from __future__ import annotations

from typing import Any

import torch

from lors.layers.amp import cast, compute_dtype, grad_like
from lors.layers.lowrank import broadcast, cores_grad_from_right, cores_right, sum_over_queries


def _left_product(x_g: torch.Tensor, left_g: torch.Tensor) -> torch.Tensor:
    """``u = x L`` of one group: (B, n, d_in) @ (d_in, m) -> (B, n, m), L broadcast over B."""
    left_m = left_g.reshape(left_g.shape[0], -1)  # (d_in, K, r) -> (d_in, m)
    return torch.bmm(x_g, broadcast(left_m, x_g.shape[0]))


class _FactorizedApply(torch.autograd.Function):
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
        b, c, n, _ = x.shape
        d_out = right.shape[-1]
        with torch.autocast(x.device.type, enabled=False):
            xc, sc, zc, lc, rc = (cast(t, dtype) for t in (x, shared, cores, left, right))
            assert xc is not None and zc is not None and lc is not None and rc is not None
            y = xc.new_zeros(b, c, n, d_out) if sc is None else torch.matmul(xc, sc)
            for g in range(c):
                u = _left_product(xc[:, g], lc[g])  # (B, n, m)
                q = cores_right(zc[:, g], rc[g])  # (B, m, d_out)
                y[:, g] += torch.bmm(u, q)  # (B, n, m) @ (B, m, d_out) -> (B, n, d_out)
        return y

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad_y: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, shared, cores, left, right = ctx.saved_tensors
        need_x, need_shared, need_cores, need_left, need_right = ctx.needs_input_grad
        b, c, n, d_in = x.shape
        k, r = cores.shape[2], cores.shape[3]
        with torch.autocast(x.device.type, enabled=False):
            gy, xc, sc, zc, lc, rc = (
                cast(t, ctx.dtype) for t in (grad_y, x, shared, cores, left, right)
            )
            assert gy is not None and xc is not None and zc is not None
            assert lc is not None and rc is not None
            grad_shared = None
            if need_shared:
                grad_shared = torch.matmul(xc.transpose(-1, -2), gy)  # (B, c, d_in, d_out)
            grad_x = None
            if need_x:
                grad_x = gy.new_zeros(b, c, n, d_in) if sc is None else gy @ sc.transpose(-1, -2)
            grad_cores: list[torch.Tensor] = []
            grad_left: list[torch.Tensor] = []
            grad_right: list[torch.Tensor] = []
            for g in range(c):
                x_g, gy_g = xc[:, g], gy[:, g]  # (B, n, d_in), (B, n, d_out)
                q = cores_right(zc[:, g], rc[g])  # (B, m, d_out)
                if need_cores or need_right:
                    u = _left_product(x_g, lc[g])  # (B, n, m)
                    grad_q = torch.bmm(u.transpose(1, 2), gy_g)  # (B, m, d_out)
                    del u
                    gz, gr = cores_grad_from_right(grad_q, zc[:, g], rc[g])
                    grad_cores.append(gz)
                    grad_right.append(gr)
                if not (need_left or need_x):
                    continue
                grad_u = torch.bmm(gy_g, q.transpose(1, 2))  # (B, n, m)
                if need_left:
                    # (B, d_in, n) @ (B, n, m) summed over queries -> (d_in, m) -> (d_in, K, r)
                    grad_left.append(sum_over_queries(x_g.transpose(1, 2), grad_u).view(d_in, k, r))
                if grad_x is not None:
                    left_t = lc[g].reshape(d_in, k * r).t()  # (d_in, K, r) -> (m, d_in)
                    grad_x[:, g] += torch.bmm(grad_u, broadcast(left_t, b))  # (B, n, d_in)
        return (
            grad_like(grad_x, x),
            grad_like(grad_shared, shared),
            grad_like(torch.stack(grad_cores, dim=1), cores) if need_cores else None,
            grad_like(torch.stack(grad_left), left) if need_left else None,
            grad_like(torch.stack(grad_right), right) if need_right else None,
        )


def factorized_apply(
    x: torch.Tensor,
    shared: torch.Tensor | None,
    cores: torch.Tensor,
    left: torch.Tensor,
    right: torch.Tensor,
) -> torch.Tensor:
    """``x @ W_shared + sum_k ((x L_k) Z_k) R_k`` without forming any per-query private weight.

    Returns:
        (B, c, n, d_out).
    """
    out = _FactorizedApply.apply(x, shared, cores, left, right)
    assert isinstance(out, torch.Tensor)
    return out
