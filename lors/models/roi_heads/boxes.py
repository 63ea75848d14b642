"""AdaMixer's box parametrisation and the box-derived inputs of a decoder stage.

A query box is ``xyzr``: centre ``(x, y)`` in pixels, scale ``z = log2 sqrt(w h)`` and aspect
``r = log2(h / w)``, so ``w = 2^(z - r/2)`` and ``h = 2^(z + r/2)``. It keeps every box valid
(positive size) whatever the regression head outputs.
"""

from __future__ import annotations

import math

import torch
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

# scale of each coordinate before the sinusoidal embedding: pixels for x, y; log2 units for z, r
_PE_SCALE = (1000.0, 1000.0, 1.0, 1.0)


def xyzr_to_xyxy(xyzr: Tensor) -> Tensor:
    """``(..., 4)`` xyzr boxes to ``(..., 4)`` corner boxes ``(x1, y1, x2, y2)``."""
    x, y, z, r = xyzr.unbind(-1)
    half_w = 0.5 * torch.pow(2.0, z - 0.5 * r)
    half_h = 0.5 * torch.pow(2.0, z + 0.5 * r)
    return torch.stack((x - half_w, y - half_h, x + half_w, y + half_h), dim=-1)


def xyxy_to_xyzr(xyxy: Tensor) -> Tensor:
    """``(..., 4)`` corner boxes (positive width and height) to ``(..., 4)`` xyzr boxes."""
    x1, y1, x2, y2 = xyxy.unbind(-1)
    w, h = x2 - x1, y2 - y1
    z = 0.5 * torch.log2(w * h)
    r = torch.log2(h / w)
    return torch.stack((0.5 * (x1 + x2), 0.5 * (y1 + y2), z, r), dim=-1)


def refine_xyzr(xyzr: Tensor, deltas: Tensor) -> Tensor:
    """Apply a regression output ``(dx, dy, dz, dr)``: the centre moves in units of ``2^z``."""
    x, y, z, r = xyzr.unbind(-1)
    dx, dy, dz, dr = deltas.unbind(-1)
    size = torch.pow(2.0, z)
    return torch.stack((x + dx * size, y + dy * size, z + dz, r + dr), dim=-1)


def position_embedding(xyzr: Tensor, dim: int, temperature: float = 10000.0) -> Tensor:
    """Sinusoidal embedding of ``(x/1000, y/1000, z, r)``, ``dim / 4`` features per coordinate.

    Args:
        xyzr: ``(B, N, 4)`` boxes.
        dim: embedding size (the content size), a multiple of 8.
        temperature: base of the geometric frequency ladder.

    Returns:
        ``(B, N, dim)``: for each coordinate, ``sin`` and ``cos`` of ``dim / 8`` frequencies,
        interleaved.
    """
    per_coord = dim // 4
    scale = xyzr.new_tensor(_PE_SCALE)
    coords = xyzr / scale  # (B, N, 4)
    exponent = (
        2
        * torch.div(torch.arange(per_coord, device=xyzr.device), 2, rounding_mode="floor")
        / per_coord
    )
    freqs = temperature ** exponent.to(xyzr.dtype)  # (per_coord,)
    angles = coords[..., None] / freqs  # (B, N, 4, per_coord)
    emb = torch.stack((angles[..., 0::2].sin(), angles[..., 1::2].cos()), dim=-1)
    # (B, N, 4, per_coord / 2, 2) -> (B, N, dim)
    return emb.flatten(-3)


def iof_attention_bias(xyxy: Tensor, tau: Tensor, eps: float = 1e-7) -> Tensor:
    """Additive attention logits ``tau_h * log(IoF(i, j) + eps)`` of every query pair and head.

    ``IoF(i, j) = |box_i ∩ box_j| / |box_i|``: a query attends less to boxes it does not overlap.

    Args:
        xyxy: ``(B, N, 4)`` boxes of the queries.
        tau: ``(H,)`` per-head scale.
        eps: floor of the IoF inside the log.

    Returns:
        ``(B * H, N, N)``, the layout of ``nn.MultiheadAttention``'s float ``attn_mask``.
    """
    iof = bbox_overlaps(xyxy, xyxy, mode="iof")  # (B, N, N)
    bias = tau.view(1, -1, 1, 1) * torch.log(iof + eps)[:, None]  # (B, H, N, N)
    return bias.flatten(0, 1)  # (B * H, N, N)


def log2_strides(strides: list[int] | tuple[int, ...]) -> list[float]:
    """``log2`` of each feature stride: the ``z`` at which a level is the natural one."""
    return [math.log2(s) for s in strides]
