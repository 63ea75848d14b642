"""The releases' parameter names against this project's, as data (docs/release-layouts.md).

A rule is ``(our name pattern, release name template, kind)``: the pattern matches a key of this
project's ``state_dict`` (``{i}`` a stage or level index, ``{p}`` ``weight`` or ``bias``, ``{rest}``
anything), the template gives the release's key, the kind (``lors.convert.permute.KINDS``) says
how the tensor's layout differs. Rules are tried in order; the first match wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RELEASES: tuple[str, ...] = ("adamixer-release", "lors-release")


@dataclass(frozen=True)
class Rule:
    """One naming rule (see the module docstring)."""

    ours: str
    release: str
    kind: str = "same"

    def pattern(self) -> re.Pattern[str]:
        regex = re.escape(self.ours)
        for field, part in (("i", r"\d+"), ("p", r"weight|bias"), ("rest", r".+")):
            regex = regex.replace(re.escape("{" + field + "}"), f"(?P<{field}>{part})")
        return re.compile(regex + r"\Z")


_OUTSIDE_DECODER = (
    # mmdet 2.x and 3.x ResNet share their names
    Rule("backbone.{rest}", "backbone.{rest}"),
    # the release's ChannelMapping: an mmcv ConvModule per level (its conv inside) and gn_out
    Rule("neck.convs.{i}.{p}", "neck.lateral_convs.{i}.conv.{p}"),
    Rule("neck.norm.{p}", "neck.gn_out.{p}"),
    Rule("rpn_head.content.weight", "rpn_head.init_content_features.weight"),
    Rule("rpn_head.init_proposal_bboxes.weight", "rpn_head.init_proposal_bboxes.weight"),
)

# what an AdaMixerDecoderStage of either release holds outside its mixing, in both releases
_STAGE = "roi_head.stages.{i}."
_REL_STAGE = "roi_head.bbox_head.{i}."
_STAGE_COMMON = (
    Rule(_STAGE + "attention.iof_tau", _REL_STAGE + "iof_tau"),
    # mmcv's MultiheadAttention wraps torch's as `attn`, as ours does
    Rule(_STAGE + "attention.attn.{rest}", _REL_STAGE + "attention.attn.{rest}"),
    Rule(_STAGE + "attention_norm.{p}", _REL_STAGE + "attention_norm.{p}"),
    # mmcv's FFN: layers.0 = (Linear, ReLU, Dropout), layers.1 = Linear
    Rule(_STAGE + "ffn.0.{p}", _REL_STAGE + "ffn.layers.0.0.{p}"),
    Rule(_STAGE + "ffn.2.{p}", _REL_STAGE + "ffn.layers.1.{p}"),
    Rule(_STAGE + "ffn_norm.{p}", _REL_STAGE + "ffn_norm.{p}"),
    Rule(_STAGE + "cls_branch.0.{p}", _REL_STAGE + "cls_fcs.0.{p}"),
    Rule(_STAGE + "cls_branch.1.{p}", _REL_STAGE + "cls_fcs.1.{p}"),
    Rule(_STAGE + "fc_cls.{p}", _REL_STAGE + "fc_cls.{p}"),
    Rule(_STAGE + "reg_branch.0.{p}", _REL_STAGE + "reg_fcs.0.{p}"),
    Rule(_STAGE + "reg_branch.1.{p}", _REL_STAGE + "reg_fcs.1.{p}"),
    Rule(_STAGE + "fc_reg.{p}", _REL_STAGE + "fc_reg.{p}"),
)

_MIX = "roi_head.mixing."
_REL_MIX = _REL_STAGE + "sampling_n_mixing."
ADAMIXER_RULES: tuple[Rule, ...] = (
    *_OUTSIDE_DECODER,
    *_STAGE_COMMON,
    Rule(_STAGE + "sampling.offset_generator.{p}", _REL_MIX + "sampling_offset_generator.0.{p}"),
    Rule(_STAGE + "mixing_norm.{p}", _REL_MIX + "norm.{p}"),
    Rule(
        _MIX + "generator.layers.{i}.{p}",
        _REL_MIX + "adaptive_mixing.parameter_generator.0.{p}",
        "generator",
    ),
    Rule(
        _MIX + "out_proj.layers.{i}.weight", _REL_MIX + "adaptive_mixing.out_proj.weight", "columns"
    ),
    Rule(_MIX + "out_proj.layers.{i}.bias", _REL_MIX + "adaptive_mixing.out_proj.bias"),
)

_GEN = _MIX + "generator."
_OUT = _MIX + "out_proj."
_FAM = "roi_head.adaptive_mixing."  # the release's FactorizedAdaptiveMixing, one for all stages
LORS_RULES: tuple[Rule, ...] = (
    *_OUTSIDE_DECODER,
    *_STAGE_COMMON,
    Rule(
        _STAGE + "sampling.offset_generator.{p}",
        _REL_STAGE + "sampling.sampling_offset_generator.0.{p}",
    ),
    Rule(_STAGE + "mixing_norm.{p}", _FAM + "out_norm.{i}.{p}"),
    Rule(_GEN + "lors_shared_generator.{p}", _FAM + "common_parameter_generator.{p}", "generator"),
    Rule(
        _GEN + "lors_core_generators.{i}.{p}", _FAM + "private_parameter_generator.{i}.{p}", "cores"
    ),
    Rule(_GEN + "lors_left.{i}.M", _FAM + "ml_parameters.{i}", "left_M"),
    Rule(_GEN + "lors_right.{i}.M", _FAM + "mr_parameters.{i}", "right_M"),
    Rule(_GEN + "lors_left.{i}.S", _FAM + "sr_parameters.{i}", "left_S"),
    Rule(_GEN + "lors_right.{i}.S", _FAM + "sl_parameters.{i}", "right_S"),
    Rule(_OUT + "lors_shared", _FAM + "base_out_proj.weight", "columns"),
    Rule(_OUT + "lors_a.{i}", _FAM + "out_weight_add_A.{i}", "static_A"),
    Rule(_OUT + "lors_b.{i}", _FAM + "out_weight_add_B.{i}", "static_B"),
    Rule(_OUT + "lors_bias.{i}", _FAM + "out_weight_bias.{i}"),
)

RULES: dict[str, tuple[Rule, ...]] = {
    "adamixer-release": ADAMIXER_RULES,
    "lors-release": LORS_RULES,
}

#: a key only each release has, and one only this project's layout has: how a file is recognised
MARKERS: dict[str, str] = {
    "adamixer-release": "roi_head.bbox_head.0.sampling_n_mixing.adaptive_mixing."
    "parameter_generator.0.weight",
    "lors-release": _FAM + "common_parameter_generator.weight",
}
OURS_MARKER = "roi_head.stages.0."
