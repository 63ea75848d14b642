"""Adaptive 3-D feature sampling of an AdaMixer stage.

Each query predicts ``P_in`` points per group as offsets ``(dx, dy, dz)`` relative to its box;
a point reads every pyramid level with bilinear ``grid_sample`` and mixes the levels with a
Gaussian weight in ``z`` around each level's natural scale ``log2 stride``. Group ``g`` reads
channel slice ``g`` of the features.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lors.models.roi_heads.boxes import log2_strides


class AdaptiveSampling3D(nn.Module):
    """Sample ``(B, N, G, P_in, C/G)`` features at query-generated 3-D points.

    Args:
        content_dim: query content size, also the feature channel count ``C``.
        num_groups: sampling groups ``G`` (each reads ``C / G`` channels).
        in_points: points per group ``P_in``.
        strides: stride of each feature level, finest first.
    """

    def __init__(
        self, content_dim: int, num_groups: int, in_points: int, strides: Sequence[int]
    ) -> None:
        super().__init__()
        self.num_groups = num_groups
        self.in_points = in_points
        self.strides = tuple(strides)
        self.register_buffer("level_z", torch.tensor(log2_strides(self.strides)), persistent=False)
        self.offset_generator = nn.Linear(content_dim, num_groups * in_points * 3)

    def init_weights(self) -> None:
        """Offsets start at the cell centres of a regular ``side x side`` grid over the box
        (``+-0.4375`` for a side of 8; uniform in ``+-0.5`` when ``P_in`` is not a square), one
        octave below the box scale (``dz = -1``), independent of the query.

        As the AdaMixer release lays it out: point ``p = i * side + j`` has ``dx`` from the cell
        index ``i`` and ``dy`` from ``j``, so a converted checkpoint meets the same point order.
        """
        nn.init.zeros_(self.offset_generator.weight)
        nn.init.zeros_(self.offset_generator.bias)
        bias = self.offset_generator.bias.data.view(self.num_groups, self.in_points, 3)
        side = math.isqrt(self.in_points)
        if side * side == self.in_points:
            centres = (torch.arange(side, dtype=bias.dtype) + 0.5) / side - 0.5  # (side,)
            outer, inner = torch.meshgrid(centres, centres, indexing="ij")  # (side, side) each
            bias[..., 0] = outer.reshape(1, -1)
            bias[..., 1] = inner.reshape(1, -1)
        else:
            nn.init.uniform_(bias[..., :2], -0.5, 0.5)
        bias[..., 2] = -1.0

    def forward(self, feats: Sequence[Tensor], content: Tensor, xyzr: Tensor) -> Tensor:
        """Sample the features.

        Args:
            feats: ``L`` levels of ``(B, C, H_l, W_l)``, strides as built.
            content: ``(B, N, C)`` query contents.
            xyzr: ``(B, N, 4)`` query boxes in pixels of the padded input.

        Returns:
            ``(B, N, G, P_in, C / G)`` sampled features.
        """
        batch, num_queries = content.shape[:2]
        groups, points = self.num_groups, self.in_points
        offsets = self.offset_generator(content).view(batch, num_queries, groups, points, 3)
        x, y, z, r = (t[..., None, None] for t in xyzr.unbind(-1))  # each (B, N, 1, 1)
        px = x + offsets[..., 0] * torch.pow(2.0, z - 0.5 * r)  # (B, N, G, P)
        py = y + offsets[..., 1] * torch.pow(2.0, z + 0.5 * r)  # (B, N, G, P)
        pz = z + offsets[..., 2]  # (B, N, G, P)
        level_weights = torch.softmax(-0.5 * (pz[..., None] - self.level_z) ** 2, dim=-1)
        # (B, N, G, P, L) -> (B, G, N, P, L): the batch-group layout grid_sample needs
        level_weights = level_weights.permute(0, 2, 1, 3, 4)
        points_xy = torch.stack((px, py), dim=-1).permute(0, 2, 1, 3, 4)  # (B, G, N, P, 2)

        sampled: Tensor | None = None
        for level, (feat, stride) in enumerate(zip(feats, self.strides, strict=True)):
            height, width = feat.shape[-2:]
            channels = feat.shape[1] // groups
            # (B, C, H, W) -> (B * G, C / G, H, W): group g reads channel slice g
            grouped = feat.reshape(batch * groups, channels, height, width)
            # pixels -> [-1, 1] with align_corners=False: -1 and 1 are the outer pixel edges
            scale = points_xy.new_tensor([2.0 / (width * stride), 2.0 / (height * stride)])
            grid = (points_xy * scale - 1.0).reshape(batch * groups, num_queries, points, 2)
            values = F.grid_sample(
                grouped, grid, mode="bilinear", padding_mode="zeros", align_corners=False
            )  # (B * G, C / G, N, P)
            weight = level_weights[..., level].reshape(batch * groups, 1, num_queries, points)
            values = values * weight
            sampled = values if sampled is None else sampled + values
        assert sampled is not None, "AdaptiveSampling3D needs at least one feature level"
        channels = sampled.shape[1]
        # (B * G, C / G, N, P) -> (B, G, C / G, N, P) -> (B, N, G, P, C / G)
        sampled = sampled.view(batch, groups, channels, num_queries, points)
        return sampled.permute(0, 3, 1, 4, 2).contiguous()
