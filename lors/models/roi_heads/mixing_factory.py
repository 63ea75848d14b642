"""Build the decoder's mixing block from ``lors_cfg``.

``lors_cfg=None``: a plain generator and a plain output projection per stage. Otherwise
``adaptive`` puts one ``lors.layers.AdaptiveLORS`` in place of the generators (``M`` and ``S`` of
every group from one shared generator, method.md section 4) and ``static`` one
``lors.layers.StaticLORS`` in place of the projections; either may stay plain.
"""

from __future__ import annotations

from torch import nn

from lors.adamixer_knobs import LorsCfg
from lors.layers import AdaptiveLORS, StaticLORS, WeightSpec
from lors.models.roi_heads.mixing import AdaptiveMixing, PlainGenerators, PlainLinears


def build_mixing(
    content_dim: int,
    num_groups: int,
    in_points: int,
    out_points: int,
    num_stages: int,
    lors_cfg: LorsCfg | None,
) -> AdaptiveMixing:
    """The mixing block of a decoder of ``num_stages`` stages.

    Args:
        content_dim: query content size ``C``.
        num_groups: ``G``.
        in_points: ``P_in``.
        out_points: ``P_out``.
        num_stages: stack depth ``N``.
        lors_cfg: validated LORS settings, or ``None`` for plain AdaMixer.

    Returns:
        The block, whose ``generator`` and ``out_proj`` are indexed by stage.
    """
    group_channels = content_dim // num_groups
    flat = num_groups * out_points * group_channels
    generator: nn.Module
    out_proj: nn.Module
    if lors_cfg is not None and lors_cfg.adaptive:
        generator = AdaptiveLORS(
            content_dim,
            weights=[
                WeightSpec("M", num_groups, group_channels, group_channels),
                WeightSpec("S", num_groups, in_points, out_points),
            ],
            num_layers=num_stages,
            rank=lors_cfg.adaptive_rank,
            groups=list(lors_cfg.adaptive_groups),
            parts=lors_cfg.parts,
        )
    else:
        generator = PlainGenerators(content_dim, num_groups, in_points, out_points, num_stages)
    if lors_cfg is not None and lors_cfg.static:
        out_proj = StaticLORS(
            flat, content_dim, num_stages, lors_cfg.static_rank, groups=1, parts=lors_cfg.parts
        )
    else:
        out_proj = PlainLinears(flat, content_dim, num_stages)
    return AdaptiveMixing(generator, out_proj, num_groups, in_points, out_points)
