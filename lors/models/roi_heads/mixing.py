"""Adaptive mixing of AdaMixer, as one module for the whole stack of decoder stages.

Per query, a generator makes per group a channel-mixing weight ``M`` (``C_g x C_g``) and a
spatial-mixing weight ``S`` (``P_in -> P_out``); the sampled ``X`` (``P_in x C_g``) becomes
``ReLU(LN(X M))`` then ``ReLU(LN(S X))``, is flattened and projected back to the content size.

The generator and the output projection are each a *stack* indexed by stage: plain AdaMixer has
a separate ``nn.Linear`` per stage (``PlainGenerators``, ``PlainLinears``); AdaMixer+LORS puts
``lors.layers.AdaptiveLORS`` / ``StaticLORS`` in their place, with the same call protocol
(``stack(x, layer=i)``; a generator returns an object with ``apply(name, x)``).
"""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn


class GeneratedWeights(Protocol):
    """The per-query weights of one stage, applied as ``y = x @ W``."""

    def apply(self, name: str, x: Tensor) -> Tensor: ...


class PlainWeights:
    """Per-query ``M`` and ``S`` of plain AdaMixer, cut from one generator output.

    Args:
        params: ``(B, G, C_g * C_g + P_in * P_out)`` generator output (group-major).
        group_channels: ``C_g``.
        in_points: ``P_in``.
        out_points: ``P_out``.
    """

    def __init__(
        self, params: Tensor, group_channels: int, in_points: int, out_points: int
    ) -> None:
        batch, groups = params.shape[:2]
        split = group_channels * group_channels
        # (B, G, Cg * Cg) -> (B, G, Cg, Cg) and (B, G, Pin * Pout) -> (B, G, Pin, Pout)
        self._weights = {
            "M": params[..., :split].reshape(batch, groups, group_channels, group_channels),
            "S": params[..., split:].reshape(batch, groups, in_points, out_points),
        }

    def apply(self, name: str, x: Tensor) -> Tensor:
        """``x @ W``: ``(B, G, n, d_in) -> (B, G, n, d_out)``."""
        return x @ self._weights[name]

    def materialize(self, name: str) -> Tensor:
        """The weight ``name`` itself, ``(B, G, d_in, d_out)``."""
        return self._weights[name]


class PlainGenerators(nn.Module):
    """One ``Linear(C -> G * (C_g^2 + P_in * P_out))`` weight generator per stage."""

    def __init__(
        self,
        content_dim: int,
        num_groups: int,
        in_points: int,
        out_points: int,
        num_layers: int,
    ) -> None:
        super().__init__()
        self.num_groups = num_groups
        self.group_channels = content_dim // num_groups
        self.in_points = in_points
        self.out_points = out_points
        per_group = self.group_channels**2 + in_points * out_points
        self.layers = nn.ModuleList(
            nn.Linear(content_dim, num_groups * per_group) for _ in range(num_layers)
        )

    def reset_parameters(self) -> None:
        """Weight zeros (every query starts with the same mixing), default bias."""
        for linear in self.layers:
            if isinstance(linear, nn.Linear):
                nn.init.zeros_(linear.weight)

    def forward(self, query: Tensor, layer: int) -> PlainWeights:
        params = self.layers[layer](query)  # (B, G * per_group)
        params = params.view(query.shape[0], self.num_groups, -1)  # (B, G, per_group)
        return PlainWeights(params, self.group_channels, self.in_points, self.out_points)


class PlainLinears(nn.Module):
    """One ``nn.Linear`` per stage (plain AdaMixer's output projection)."""

    def __init__(self, in_features: int, out_features: int, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(in_features, out_features) for _ in range(num_layers))

    def reset_parameters(self) -> None:
        """Xavier-uniform weights, as every linear map of an AdaMixer stage."""
        for linear in self.layers:
            if isinstance(linear, nn.Linear):
                nn.init.xavier_uniform_(linear.weight)

    def forward(self, x: Tensor, layer: int) -> Tensor:
        return self.layers[layer](x)


class AdaptiveMixing(BaseModule):
    """Channel then spatial adaptive mixing and the output projection, for every stage.

    Args:
        generator: stack making ``M`` and ``S`` from the query (``PlainGenerators`` or
            ``lors.layers.AdaptiveLORS``).
        out_proj: stack projecting ``G * P_out * C_g`` back to ``C`` (``PlainLinears`` or
            ``lors.layers.StaticLORS``).
        num_groups: ``G``.
        in_points: ``P_in``.
        out_points: ``P_out``.
    """

    def __init__(
        self,
        generator: nn.Module,
        out_proj: nn.Module,
        num_groups: int,
        in_points: int,
        out_points: int,
    ) -> None:
        super().__init__()
        self.generator = generator
        self.out_proj = out_proj
        self.num_groups = num_groups
        self.in_points = in_points
        self.out_points = out_points

    @torch.no_grad()
    def init_weights(self) -> None:
        """Each stack's own start (``reset_parameters``): plain generators with zero weights,
        LORS with its private terms zero (method.md sections 1 and 2)."""
        super().init_weights()
        for stack in (self.generator, self.out_proj):
            reset = getattr(stack, "reset_parameters", None)
            if callable(reset):
                reset()

    def forward(self, content: Tensor, sampled: Tensor, layer: int) -> Tensor:
        """Mix the sampled features of each query with weights made from its content.

        Args:
            content: ``(B, N, C)`` query contents (after self-attention).
            sampled: ``(B, N, G, P_in, C_g)`` sampled features.
            layer: stage index.

        Returns:
            ``(B, N, C)``: the update to add to the content.
        """
        batch, num_queries, dim = content.shape
        groups, group_channels = sampled.shape[2], sampled.shape[4]
        weights = self.generator(content.reshape(batch * num_queries, dim), layer=layer)
        # (B, N, G, Pin, Cg) -> (B * N, G, Pin, Cg)
        x = sampled.reshape(batch * num_queries, groups, self.in_points, group_channels)
        x = weights.apply("M", x)  # channel mixing: (B * N, G, Pin, Cg)
        x = F.relu(F.layer_norm(x, x.shape[-2:]))
        # spatial mixing S X = (X^T W_S)^T: (B * N, G, Cg, Pin) -> (B * N, G, Cg, Pout)
        x = weights.apply("S", x.transpose(-1, -2))
        x = F.relu(F.layer_norm(x, x.shape[-2:]))
        x = x.reshape(batch, num_queries, -1)  # (B, N, G * Cg * Pout)
        return self.out_proj(x, layer=layer)
