"""Closed-form parameter counts of the AdaMixer decoder, plain or with LORS (pure Python).

What is counted where (the same split as the built detector, ``python -m lors.count``):

- ``roi_head`` (``decoder_params()['total']``): every decoder stage (IoF self-attention with its
  per-head IoF scale, sampling-offset generator, FFN, the three LayerNorms, classification and
  box heads) plus the mixing block (generators of ``M`` and ``S`` and the output projection).
- ``rpn_head`` (``decoder_params()['rpn_head']``, not in ``total``): the initial query contents,
  ``num_queries x content_dim``, and the initial boxes, ``num_queries x 4`` (the release's
  ``init_proposal_bboxes``: parameters that never learn, counted as the release counts them).
- ``shared``: parameters every stage uses (the LORS shared generator and shared projection);
  ``private``: everything owned by one stage. ``shared + private == total``.

The harness calls this at plan time and the count tables (``analysis.counts``) draw from it, so
it imports no torch. The LORS stacks (and the plain stacks they replace) are counted by
``lors.counting``; this module says which stacks a decoder has and adds the rest of each stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lors.adamixer_knobs import DecoderKnobs, LorsCfg, knobs_from_config, parse_lors_cfg
from lors.counting import (
    ParamCount,
    WeightSpec,
    adaptive_lors_params,
    plain_adaptive_params,
    plain_static_params,
    static_lors_params,
)


def _linear(d_in: int, d_out: int, bias: bool = True) -> int:
    return d_in * d_out + (d_out if bias else 0)


def _stage_params(k: DecoderKnobs) -> dict[str, int]:
    """One stage, without its mixing block."""
    d = k.content_dim
    norm = 2 * d
    return {
        # in-projection (q, k, v) and out-projection, per-head IoF scale, post-attention norm
        "attention": 3 * _linear(d, d) + _linear(d, d) + k.num_heads + norm,
        "sampling": _linear(d, k.num_groups * k.in_points * 3),
        "mixing_norm": norm,
        "ffn": _linear(d, k.feedforward_channels) + _linear(k.feedforward_channels, d) + norm,
        "heads": 2 * (_linear(d, d) + norm) + _linear(d, k.num_classes) + _linear(d, 4),
    }


def mixing_weights(k: DecoderKnobs) -> list[WeightSpec]:
    """The weights each stage generates per query: channel mixing ``M`` (C_g x C_g) and spatial
    mixing ``S`` (P_in x P_out), one copy per group."""
    cg = k.group_channels
    return [
        WeightSpec("M", k.num_groups, cg, cg),
        WeightSpec("S", k.num_groups, k.in_points, k.out_points),
    ]


def generator_params(
    k: DecoderKnobs, lors: LorsCfg | None, weights: list[WeightSpec] | None = None
) -> ParamCount:
    """The generators of every stage (LORS_A when ``lors.adaptive``, else one Linear per stage).

    Args:
        k: the decoder's knobs (their ``lors_cfg`` is not read: ``lors`` says what is counted).
        lors: the LORS settings to count with, or None for plain AdaMixer.
        weights: the generated weights; default ``mixing_weights(k)`` (Table 1 counts ``S`` alone).
    """
    weights = mixing_weights(k) if weights is None else weights
    if lors is None or not lors.adaptive:
        return plain_adaptive_params(k.content_dim, weights, k.num_stages)
    return adaptive_lors_params(
        k.content_dim,
        weights,
        k.num_stages,
        lors.adaptive_rank,
        groups=list(lors.adaptive_groups),
        parts=lors.parts,
    )


def projection_params(k: DecoderKnobs, lors: LorsCfg | None) -> ParamCount:
    """The output projection of every stage (LORS_T with K = 1 when ``lors.static``, else plain);
    ``k`` and ``lors`` as in ``generator_params``."""
    d_in, d_out = k.projection_shape
    if lors is None or not lors.static:
        return plain_static_params(d_in, d_out, k.num_stages)
    return static_lors_params(
        d_in, d_out, k.num_stages, lors.static_rank, groups=1, parts=lors.parts
    )


def count_decoder(knobs: DecoderKnobs) -> dict[str, int]:
    """Counts of the decoder described by ``knobs``.

    Returns:
        ``total``, ``shared``, ``private`` (roi_head), ``rpn_head`` (query contents and
        initial boxes), and the
        per-component totals ``attention``, ``sampling``, ``ffn``, ``heads``, ``norms``,
        ``generator``, ``generator_shared``, ``projection``, ``projection_shared``.
    """
    lors = knobs.lors_cfg
    stage = _stage_params(knobs)
    generator = generator_params(knobs, lors)
    projection = projection_params(knobs, lors)
    n = knobs.num_stages
    shared = generator.shared + projection.shared
    private = n * sum(stage.values()) + sum(generator.private) + sum(projection.private)
    return {
        "total": shared + private,
        "shared": shared,
        "private": private,
        # query contents (N x C) and the release's init_proposal_bboxes (N x 4)
        "rpn_head": knobs.num_queries * (knobs.content_dim + 4),
        "attention": n * stage["attention"],
        "sampling": n * stage["sampling"],
        "ffn": n * stage["ffn"],
        "heads": n * stage["heads"],
        "norms": n * stage["mixing_norm"],
        "generator": generator.total,
        "generator_shared": generator.shared,
        "projection": projection.total,
        "projection_shared": projection.shared,
    }


def decoder_params(
    num_stages: int = 6,
    num_groups: int = 4,
    in_points: int = 32,
    out_points: int = 128,
    num_queries: int = 100,
    num_classes: int = 80,
    content_dim: int = 256,
    feedforward_channels: int = 2048,
    lors_cfg: Mapping[str, Any] | None = None,
    num_heads: int = 8,
) -> dict[str, int]:
    """Counts of the AdaMixer decoder for these knob values (see ``count_decoder``).

    Args:
        num_stages: ``model.roi_head.num_stages``.
        num_groups: ``model.roi_head.num_groups``.
        in_points: ``model.roi_head.in_points``.
        out_points: ``model.roi_head.out_points``.
        num_queries: ``model.rpn_head.num_queries`` (only ``rpn_head`` depends on it).
        num_classes: ``model.roi_head.num_classes``.
        content_dim: ``model.roi_head.content_dim``.
        feedforward_channels: ``model.roi_head.feedforward_channels``.
        lors_cfg: ``model.roi_head.lors_cfg`` as in the config (validated here).
        num_heads: ``model.roi_head.num_heads``.

    Raises:
        lors.errors.ConfigError: a bad ``lors_cfg``, or a rank larger than the weight it
            factorises.
    """
    knobs = DecoderKnobs(
        num_stages=num_stages,
        num_groups=num_groups,
        in_points=in_points,
        out_points=out_points,
        num_queries=num_queries,
        num_classes=num_classes,
        content_dim=content_dim,
        feedforward_channels=feedforward_channels,
        num_heads=num_heads,
        lors_cfg=parse_lors_cfg(lors_cfg, num_stages),
    )
    return count_decoder(knobs)


def decoder_params_from_config(cfg: Mapping[str, Any]) -> dict[str, int]:
    """``decoder_params`` with the knobs read from a resolved mmengine config (a mapping with
    ``model.roi_head`` and ``model.rpn_head``, e.g. ``Config.fromfile(p).to_dict()``)."""
    return count_decoder(knobs_from_config(cfg))
