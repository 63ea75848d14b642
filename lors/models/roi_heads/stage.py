"""One AdaMixer decoder stage: IoF-biased self-attention, 3-D sampling, adaptive mixing, FFN,
classification and box heads.

The mixing block is passed in at call time: the decoder owns it for all stages, so that LORS can
share its weights across the stack (method.md section 4). Everything else here is per stage.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from lors.models.roi_heads.boxes import (
    iof_attention_bias,
    position_embedding,
    refine_xyzr,
    xyzr_to_xyxy,
)
from lors.models.roi_heads.mixing import AdaptiveMixing
from lors.models.roi_heads.sampling import AdaptiveSampling3D

#: the focal classifier's prior: every class starts at this probability (bias -log(99))
PRIOR_PROB = 0.01


class IoFSelfAttention(nn.Module):
    """Multi-head self-attention whose logits get ``tau_h * log(IoF + eps)`` per head."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, num_heads, batch_first=True)
        self.iof_tau = nn.Parameter(torch.empty(num_heads))
        nn.init.uniform_(self.iof_tau, 0.0, 4.0)

    def forward(self, x: Tensor, xyxy: Tensor) -> Tensor:
        """``x`` ``(B, N, C)`` (content + position embedding), ``xyxy`` ``(B, N, 4)``."""
        bias = iof_attention_bias(xyxy, self.iof_tau)  # (B * H, N, N)
        out, _ = self.attn(x, x, x, attn_mask=bias, need_weights=False)
        return out


def _mlp_branch(dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, dim), nn.LayerNorm(dim), nn.ReLU(inplace=True))


class AdaMixerStage(BaseModule):
    """One stage of the decoder (all but the mixing weights, which the decoder owns).

    Args:
        content_dim: query content size ``C`` (also the feature channel count).
        num_heads: attention heads.
        num_groups: sampling groups ``G``.
        in_points: sampled points per group ``P_in``.
        feedforward_channels: hidden size of the FFN.
        num_classes: object classes (sigmoid classification, no background logit).
        strides: feature strides, finest first.
    """

    def __init__(
        self,
        content_dim: int,
        num_heads: int,
        num_groups: int,
        in_points: int,
        feedforward_channels: int,
        num_classes: int,
        strides: Sequence[int],
    ) -> None:
        super().__init__()
        self.content_dim = content_dim
        self.attention = IoFSelfAttention(content_dim, num_heads)
        self.attention_norm = nn.LayerNorm(content_dim)
        self.sampling = AdaptiveSampling3D(content_dim, num_groups, in_points, strides)
        self.mixing_norm = nn.LayerNorm(content_dim)
        self.ffn = nn.Sequential(
            nn.Linear(content_dim, feedforward_channels),
            nn.ReLU(inplace=True),
            nn.Linear(feedforward_channels, content_dim),
        )
        self.ffn_norm = nn.LayerNorm(content_dim)
        self.cls_branch = _mlp_branch(content_dim)
        self.fc_cls = nn.Linear(content_dim, num_classes)
        self.reg_branch = _mlp_branch(content_dim)
        self.fc_reg = nn.Linear(content_dim, 4)

    @torch.no_grad()
    def init_weights(self) -> None:
        """As the AdaMixer release: every linear map reset, then xavier-uniform on its weight;
        the IoF temperatures uniform in [0, 4]; the sampling grid; a 1 % prior on every class;
        a box head that leaves boxes unchanged."""
        super().init_weights()  # marks the stage initialised (mmengine's is_init)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                module.reset_parameters()
                nn.init.xavier_uniform_(module.weight)
        nn.init.uniform_(self.attention.iof_tau, 0.0, 4.0)
        self.sampling.init_weights()
        nn.init.constant_(self.fc_cls.bias, -math.log((1 - PRIOR_PROB) / PRIOR_PROB))
        nn.init.zeros_(self.fc_reg.weight)
        nn.init.zeros_(self.fc_reg.bias)

    def forward(
        self,
        feats: Sequence[Tensor],
        xyzr: Tensor,
        content: Tensor,
        mixing: AdaptiveMixing,
        layer: int,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Run the stage.

        Args:
            feats: feature levels ``(B, C, H_l, W_l)``.
            xyzr: ``(B, N, 4)`` query boxes (detached by the caller).
            content: ``(B, N, C)`` query contents.
            mixing: the decoder's mixing block.
            layer: this stage's index in the stack.

        Returns:
            Class logits ``(B, N, num_classes)``, refined boxes ``(B, N, 4)`` (xyzr) and the new
            contents ``(B, N, C)``.
        """
        with_pe = content + position_embedding(xyzr, self.content_dim)
        # the residual keeps the position embedding, as in AdaMixer
        content = self.attention_norm(with_pe + self.attention(with_pe, xyzr_to_xyxy(xyzr)))
        sampled = self.sampling(feats, content, xyzr)  # (B, N, G, Pin, Cg)
        content = self.mixing_norm(content + mixing(content, sampled, layer))
        content = self.ffn_norm(content + self.ffn(content))
        cls_logits = self.fc_cls(self.cls_branch(content))
        deltas = self.fc_reg(self.reg_branch(content))
        return cls_logits, refine_xyzr(xyzr, deltas), content
