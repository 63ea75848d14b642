"""AdaMixer's neck: a 1x1 conv per level to a common width, then one GroupNorm for all levels.

Unlike an FPN there is no top-down path: AdaMixer's decoder mixes the levels itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import nn

from lors.errors import ConfigError


@MODELS.register_module()
class ChannelMapping(BaseModule):
    """Map each backbone level to ``out_channels`` with a 1x1 conv (with bias), then a GroupNorm
    whose parameters are shared by every level.

    Args:
        in_channels: channels of each input level (e.g. ``[256, 512, 1024, 2048]`` for ResNet-50).
        out_channels: common channel count of every output level.
        num_groups: groups of the shared GroupNorm.
        init_cfg: mmengine init config.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        out_channels: int = 256,
        num_groups: int = 32,
        init_cfg: dict | list[dict] | None = None,
    ) -> None:
        if init_cfg is None:
            init_cfg = dict(type="Xavier", layer="Conv2d", distribution="uniform")
        super().__init__(init_cfg=init_cfg)
        if out_channels % num_groups:
            raise ConfigError(
                f"model.neck: out_channels={out_channels} must be divisible by "
                f"num_groups={num_groups}"
            )
        self.in_channels = list(in_channels)
        self.out_channels = out_channels
        self.convs = nn.ModuleList(nn.Conv2d(c, out_channels, kernel_size=1) for c in in_channels)
        self.norm = nn.GroupNorm(num_groups, out_channels)

    def forward(self, inputs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        if len(inputs) != len(self.convs):
            raise ValueError(
                f"ChannelMapping got {len(inputs)} levels, built for {len(self.convs)} "
                f"(in_channels={self.in_channels})"
            )
        return tuple(self.norm(conv(x)) for conv, x in zip(self.convs, inputs, strict=True))
