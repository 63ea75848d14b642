"""The releases' R50 1x state dicts as docs/release-layouts.md lists them, written out here apart
from lors.convert's own tables, and a pure-torch reference of each release's mixing.

Values are random; names and shapes are the release's. The backbone is the one part taken from
the model itself: its names are mmdet's ResNet in 2.x and 3.x alike.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

C, N_Q, CLASSES, FFN, HEADS, STAGES = 256, 100, 80, 2048, 8, 6
P_OUT = 128
# AdaMixer+LORS: G, P_in, r, K_i per stage, static rank; AdaMixer: G, P_in
LORS_G, LORS_P_IN, LORS_R, LORS_K, LORS_R_T = 2, 64, 16, (1, 1, 2, 2, 3, 3), 8
ADAMIXER_G, ADAMIXER_P_IN = 4, 32


def _stage_shapes(prefix: str, offsets: str, groups: int, in_points: int) -> dict[str, tuple]:
    s = {
        prefix + "iof_tau": (HEADS,),
        prefix + "attention.attn.in_proj_weight": (3 * C, C),
        prefix + "attention.attn.in_proj_bias": (3 * C,),
        prefix + "attention.attn.out_proj.weight": (C, C),
        prefix + "attention.attn.out_proj.bias": (C,),
        prefix + "ffn.layers.0.0.weight": (FFN, C),
        prefix + "ffn.layers.0.0.bias": (FFN,),
        prefix + "ffn.layers.1.weight": (C, FFN),
        prefix + "ffn.layers.1.bias": (C,),
        prefix + "fc_cls.weight": (CLASSES, C),
        prefix + "fc_cls.bias": (CLASSES,),
        prefix + "fc_reg.weight": (4, C),
        prefix + "fc_reg.bias": (4,),
        prefix + offsets + "weight": (groups * in_points * 3, C),
        prefix + offsets + "bias": (groups * in_points * 3,),
    }
    for norm in ("attention_norm", "ffn_norm", "cls_fcs.1", "reg_fcs.1"):
        s[prefix + norm + ".weight"] = s[prefix + norm + ".bias"] = (C,)
    for fc in ("cls_fcs.0", "reg_fcs.0"):
        s[prefix + fc + ".weight"], s[prefix + fc + ".bias"] = (C, C), (C,)
    return s


def _outside(backbone: Mapping[str, tuple]) -> dict[str, tuple]:
    s = {"backbone." + k: v for k, v in backbone.items()}
    for level, c_in in enumerate((256, 512, 1024, 2048)):
        s[f"neck.lateral_convs.{level}.conv.weight"] = (C, c_in, 1, 1)
        s[f"neck.lateral_convs.{level}.conv.bias"] = (C,)
    s["neck.gn_out.weight"] = s["neck.gn_out.bias"] = (C,)
    s["rpn_head.init_content_features.weight"] = (N_Q, C)
    s["rpn_head.init_proposal_bboxes.weight"] = (N_Q, 4)
    return s


def adamixer_shapes(backbone: Mapping[str, tuple]) -> dict[str, tuple]:
    """Names and shapes of the AdaMixer release's R50 1x checkpoint."""
    g, p_in = ADAMIXER_G, ADAMIXER_P_IN
    c_g = C // g
    s = _outside(backbone)
    for i in range(STAGES):
        pre = f"roi_head.bbox_head.{i}."
        s.update(_stage_shapes(pre, "sampling_n_mixing.sampling_offset_generator.0.", g, p_in))
        mix = pre + "sampling_n_mixing."
        s[mix + "norm.weight"] = s[mix + "norm.bias"] = (C,)
        s[mix + "adaptive_mixing.parameter_generator.0.weight"] = (g * (c_g**2 + p_in * P_OUT), C)
        s[mix + "adaptive_mixing.parameter_generator.0.bias"] = (g * (c_g**2 + p_in * P_OUT),)
        s[mix + "adaptive_mixing.out_proj.weight"] = (C, g * P_OUT * c_g)
        s[mix + "adaptive_mixing.out_proj.bias"] = (C,)
    return s


def lors_shapes(backbone: Mapping[str, tuple]) -> dict[str, tuple]:
    """Names and shapes of the LORS release's AdaMixer+LORS R50 1x checkpoint."""
    g, p_in, r, r_t = LORS_G, LORS_P_IN, LORS_R, LORS_R_T
    c_g = C // g
    s = _outside(backbone)
    fam = "roi_head.adaptive_mixing."
    s[fam + "common_parameter_generator.weight"] = (g * (c_g**2 + p_in * P_OUT), C)
    s[fam + "common_parameter_generator.bias"] = (g * (c_g**2 + p_in * P_OUT),)
    s[fam + "base_out_proj.weight"] = (C, g * P_OUT * c_g)
    for i, k in enumerate(LORS_K):
        s.update(
            _stage_shapes(
                f"roi_head.bbox_head.{i}.", "sampling.sampling_offset_generator.0.", g, p_in
            )
        )
        s[fam + f"ml_parameters.{i}"] = (g * k, c_g, r)
        s[fam + f"mr_parameters.{i}"] = (g * k, r, c_g)
        s[fam + f"sl_parameters.{i}"] = (g * k, P_OUT, r)
        s[fam + f"sr_parameters.{i}"] = (g * k, r, p_in)
        s[fam + f"private_parameter_generator.{i}.weight"] = (2 * g * k * r * r, C)
        s[fam + f"private_parameter_generator.{i}.bias"] = (2 * g * k * r * r,)
        s[fam + f"out_weight_add_A.{i}"] = (r_t, g * P_OUT * c_g)
        s[fam + f"out_weight_add_B.{i}"] = (C, r_t)
        s[fam + f"out_weight_bias.{i}"] = (C,)
        s[fam + f"out_norm.{i}.weight"] = s[fam + f"out_norm.{i}.bias"] = (C,)
    return s


def random_state(shapes: Mapping[str, tuple], seed: int = 0) -> dict[str, Tensor]:
    """Random values of a modest scale, so the mixing's outputs stay well conditioned."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape in shapes.items():
        if name.endswith("num_batches_tracked"):
            out[name] = torch.randint(0, 100, shape, generator=gen)
        else:
            out[name] = torch.randn(shape, generator=gen) * 0.05
    return out


def _group_ln_relu(x: Tensor) -> Tensor:
    return F.relu(F.layer_norm(x, x.shape[-2:]))


def _finish(sd: Mapping[str, Tensor], x: Tensor, q: Tensor, weight: Tensor, bias: Tensor,
            norm: str) -> Tensor:  # fmt: skip
    flat = x.reshape(q.shape[0], -1)  # (n, G, P_out, C_g) -> (n, G * P_out * C_g)
    return F.layer_norm(q + flat @ weight.T + bias, (C,), sd[norm + ".weight"], sd[norm + ".bias"])


def adamixer_mixing(sd: Mapping[str, Tensor], i: int, q: Tensor, x: Tensor) -> Tensor:
    """AdaMixer's release mixing of stage ``i`` with its post-mixing norm.

    Args:
        sd: the release's state dict.
        q: ``(n, C)`` query contents; ``x``: ``(n, G, P_in, C_g)`` sampled features.
    """
    n, g, p_in, c_g = x.shape
    mix = f"roi_head.bbox_head.{i}.sampling_n_mixing."
    gen = mix + "adaptive_mixing.parameter_generator.0."
    params = (q @ sd[gen + "weight"].T + sd[gen + "bias"]).reshape(n, g, -1)
    m = params[..., : c_g * c_g].reshape(n, g, c_g, c_g)
    s = params[..., c_g * c_g :].reshape(n, g, P_OUT, p_in)
    x = _group_ln_relu(x @ m)  # (n, G, P_in, C_g)
    x = _group_ln_relu(s @ x)  # (P_out, P_in) @ (P_in, C_g) -> (n, G, P_out, C_g)
    proj = mix + "adaptive_mixing.out_proj."
    return _finish(sd, x, q, sd[proj + "weight"], sd[proj + "bias"], mix + "norm")


def lors_mixing(sd: Mapping[str, Tensor], i: int, q: Tensor, x: Tensor) -> Tensor:
    """The LORS release's FactorizedAdaptiveMixing of stage ``i`` (its ``out_norm`` included)."""
    n, g, p_in, c_g = x.shape
    fam = "roi_head.adaptive_mixing."
    k, r = LORS_K[i], LORS_R
    common = q @ sd[fam + "common_parameter_generator.weight"].T
    common = (common + sd[fam + "common_parameter_generator.bias"]).reshape(n, g, -1)
    m = common[..., : c_g * c_g].reshape(n, g, c_g, c_g)
    s = common[..., c_g * c_g :].reshape(n, g, P_OUT, p_in)
    priv = fam + f"private_parameter_generator.{i}."
    z = (q @ sd[priv + "weight"].T + sd[priv + "bias"]).reshape(n, 2, g * k, r, r)
    ml, mr = sd[fam + f"ml_parameters.{i}"], sd[fam + f"mr_parameters.{i}"]
    sl, sr = sd[fam + f"sl_parameters.{i}"], sd[fam + f"sr_parameters.{i}"]
    m_terms, s_terms = [], []
    for group in range(g):
        m_g, s_g = m[:, group], s[:, group]
        for pair in range(k):
            j = group * k + pair
            m_g = m_g + ml[j] @ z[:, 0, j] @ mr[j]  # (C_g, r)(r, r)(r, C_g)
            s_g = s_g + sl[j] @ z[:, 1, j] @ sr[j]  # (P_out, r)(r, r)(r, P_in)
        m_terms.append(m_g)
        s_terms.append(s_g)
    x = _group_ln_relu(x @ torch.stack(m_terms, 1))
    x = _group_ln_relu(torch.stack(s_terms, 1) @ x)  # (n, G, P_out, C_g)
    a, b = sd[fam + f"out_weight_add_A.{i}"], sd[fam + f"out_weight_add_B.{i}"]
    weight = sd[fam + "base_out_proj.weight"] + b @ a
    return _finish(sd, x, q, weight, sd[fam + f"out_weight_bias.{i}"], fam + f"out_norm.{i}")
