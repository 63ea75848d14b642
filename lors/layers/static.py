"""LORS_T: a stack of N linear maps of one shape as one shared weight plus per-layer low-rank terms.

``W_i = W_shared + sum_k B_ik A_ik`` (shared/docs/method.md section 1). At initialisation every
private term is exactly zero (``B = 0``), so every layer starts as the shared weight.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lors.errors import ConfigError
from lors.spec import resolve_static


class StaticLORS(nn.Module):
    """A stack of ``num_layers`` maps ``Linear(in_features -> out_features)`` sharing one weight.

    Parameters (all named ``lors_*`` so optimizer groups and checkpoint filters are one prefix):

    - ``lors_shared`` (out, in): the shared weight, PyTorch's default Linear init
      (absent when ``parts="private"``).
    - ``lors_a[i]`` (K_i, r, in), kaiming-uniform (a = 0, fan-in ``in``), and ``lors_b[i]``
      (out, K_i, r), zeros: the K_i rank-r pairs of layer i (absent when ``parts="shared"``).
    - ``lors_bias[i]`` (out,): private bias of layer i, zeros; with ``parts="shared"`` one
      ``lors_shared_bias`` (default Linear init) serves every layer instead.

    Args:
        in_features: input features of each map.
        out_features: output features of each map.
        num_layers: N, maps in the stack.
        rank: r, rank of each private pair (1..min(in_features, out_features)).
        groups: K, pairs per layer: one int, or one per layer.
        parts: ``both`` (the method), ``shared`` (one Linear for all layers) or ``private``
            (each layer is its private term alone).
        bias: whether the maps have a bias.

    Raises:
        ConfigError: an argument out of range; the message names it and the valid range.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        num_layers: int,
        rank: int,
        groups: int | Sequence[int] = 1,
        parts: str = "both",
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.args = resolve_static(in_features, out_features, num_layers, rank, groups, parts, bias)
        a = self.args
        self.lors_shared: nn.Parameter | None = None
        self.lors_shared_bias: nn.Parameter | None = None
        self.lors_a = nn.ParameterList()
        self.lors_b = nn.ParameterList()
        self.lors_bias = nn.ParameterList()
        if a.parts != "private":
            self.lors_shared = nn.Parameter(torch.empty(a.out_features, a.in_features))
        if a.parts == "shared" and a.bias:
            self.lors_shared_bias = nn.Parameter(torch.empty(a.out_features))
        if a.parts != "shared":
            for k in a.groups:
                self.lors_a.append(nn.Parameter(torch.empty(k, a.rank, a.in_features)))
                self.lors_b.append(nn.Parameter(torch.empty(a.out_features, k, a.rank)))
                if a.bias:
                    self.lors_bias.append(nn.Parameter(torch.empty(a.out_features)))
        self.reset_parameters()

    @property
    def num_layers(self) -> int:
        """N, the number of maps in the stack."""
        return self.args.num_layers

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Initialise as method.md section 1 says: every layer equals the shared map."""
        fan_in = self.args.in_features
        if self.lors_shared is not None:
            # nn.Linear's own default: kaiming-uniform with a = sqrt(5), bias U(+-1/sqrt(fan_in))
            nn.init.kaiming_uniform_(self.lors_shared, a=math.sqrt(5))
        if self.lors_shared_bias is not None:
            bound = 1.0 / math.sqrt(fan_in)
            nn.init.uniform_(self.lors_shared_bias, -bound, bound)
        for a_i, b_i in zip(self.lors_a, self.lors_b, strict=True):
            # (K, r, in) -> (K*r, in): the fan-in of every pair A_k is `in`, as for a 2-D A
            nn.init.kaiming_uniform_(a_i.view(-1, fan_in), a=0)
            nn.init.zeros_(b_i)
        for bias in self.lors_bias:
            nn.init.zeros_(bias)

    def _check_layer(self, layer: int) -> int:
        if isinstance(layer, bool) or not isinstance(layer, int):
            raise ConfigError(
                f"layer={layer!r} is invalid: expected an int in 0..{self.num_layers - 1}"
            )
        if not 0 <= layer < self.num_layers:
            raise ConfigError(f"layer={layer} is invalid: expected 0..{self.num_layers - 1}")
        return layer

    def private_weight(self, layer: int) -> torch.Tensor | None:
        """``sum_k B_k A_k`` of ``layer``, (out_features, in_features); None for ``shared``."""
        layer = self._check_layer(layer)
        if self.args.parts == "shared":
            return None
        a, b = self.lors_a[layer], self.lors_b[layer]
        # (out, K, r) -> (out, K*r) and (K, r, in) -> (K*r, in): K pairs are one rank-K*r product
        return b.flatten(1) @ a.flatten(0, 1)

    def weight(self, layer: int) -> torch.Tensor:
        """The fused weight ``W_i`` of ``layer``, (out_features, in_features)."""
        private = self.private_weight(layer)
        if private is None:
            assert self.lors_shared is not None  # parts == "shared" always has it
            return self.lors_shared
        if self.lors_shared is None:
            return private
        return self.lors_shared + private

    def bias(self, layer: int) -> torch.Tensor | None:
        """The bias of ``layer`` (out_features,), or None when the maps have no bias."""
        layer = self._check_layer(layer)
        if self.lors_shared_bias is not None:
            return self.lors_shared_bias
        return self.lors_bias[layer] if len(self.lors_bias) else None

    def forward(self, x: torch.Tensor, layer: int) -> torch.Tensor:
        """Apply map ``layer``: ``x (..., in_features) -> (..., out_features) = x W_i^T + b_i``."""
        # forming W_i costs out*in*K*r, far less than applying it to the rows of x
        return F.linear(x, self.weight(layer), self.bias(layer))

    def extra_repr(self) -> str:
        a = self.args
        return (
            f"in_features={a.in_features}, out_features={a.out_features}, "
            f"num_layers={a.num_layers}, rank={a.rank}, groups={list(a.groups)}, "
            f"parts={a.parts!r}, bias={a.bias}"
        )
