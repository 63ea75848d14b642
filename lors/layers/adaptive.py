"""LORS_A: weights generated from a query by one shared generator plus per-layer low-rank terms.

``W_i(q) = reshape(G_s q + g_s) + sum_k L_ik Z_ik(q) R_ik`` with ``Z_ik(q)`` the r x r cores of
``reshape(P_i q + p_i)`` (shared/docs/method.md sections 2 and 4). One module serves several
generated weights (AdaMixer's M and S) from one shared and one core generator per layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from lors.errors import ConfigError, ShapeError
from lors.layers.generated import GeneratedWeights
from lors.spec import PATHS, WeightSpec, check_choice, resolve_adaptive


class AdaptiveLORS(nn.Module):
    """A stack of ``num_layers`` query-conditioned weight generators sharing one generator.

    Layouts (fixed: checkpoints and the decoder rely on them):

    - ``lors_shared_generator``: Linear(query_dim -> count * sum(d_in*d_out)) with bias; per
      query, group-major: for each group g the entries of every weight spec in list order, each
      a row-major (d_in, d_out) matrix. Weight zeros, bias PyTorch's default.
    - ``lors_core_generators[i]``: Linear(query_dim -> count * S * K_i * r * r); group outer,
      then weight spec, then k, then the row-major (r, r) core. Weight and bias zeros, so every
      private term is exactly zero at initialisation; with ``parts="private"`` (no shared
      generator) the bias keeps PyTorch's default, as the shared generator's does.
    - ``lors_left[i][name]`` (count, d_in, K_i, r) with ``L_{g,k} = [g, :, k]`` and
      ``lors_right[i][name]`` (count, K_i, r, d_out) with ``R_{g,k} = [g, k]``: kaiming-uniform
      (a = 0) with fan-in ``d_in * r`` for L and ``r * d_out`` for R, the scale the release's
      (count*K, d_in, r) / (count*K, r, d_out) tensors get from ``kaiming_uniform_``.

    Args:
        query_dim: d_q, size of the query vectors.
        weights: the generated weights; all with the same ``count``.
        num_layers: N, layers in the stack.
        rank: r (1..min(d_in, d_out) over the weights).
        groups: K, pairs per layer: one int, or one per layer.
        parts: ``both`` (the method), ``shared`` (the shared generator only) or ``private``
            (no shared generator: each layer is its private term alone).
        path: ``auto`` (default: per weight, the cheapest by ``lors.layers.cost``),
            ``materialized``, ``fused`` or ``factorized``; all give the same result.

    Raises:
        ConfigError: an argument out of range; the message names it and the valid range.
    """

    def __init__(
        self,
        query_dim: int,
        weights: Sequence[WeightSpec],
        num_layers: int,
        rank: int,
        groups: int | Sequence[int] = 1,
        parts: str = "both",
        path: str = "auto",
    ) -> None:
        super().__init__()
        self.args = resolve_adaptive(query_dim, weights, num_layers, rank, groups, parts)
        self.path = path
        a = self.args
        self.lors_shared_generator: nn.Linear | None = None
        if a.parts != "private":
            self.lors_shared_generator = nn.Linear(a.query_dim, a.generated)
        self.lors_core_generators = nn.ModuleList()
        self.lors_left = nn.ModuleList()
        self.lors_right = nn.ModuleList()
        if a.parts != "shared":
            c, r, s = a.count, a.rank, len(a.weights)
            for k in a.groups:
                self.lors_core_generators.append(nn.Linear(a.query_dim, c * s * k * r * r))
                self.lors_left.append(
                    nn.ParameterDict(
                        {w.name: nn.Parameter(torch.empty(c, w.d_in, k, r)) for w in a.weights}
                    )
                )
                self.lors_right.append(
                    nn.ParameterDict(
                        {w.name: nn.Parameter(torch.empty(c, k, r, w.d_out)) for w in a.weights}
                    )
                )
        self.reset_parameters()

    @property
    def path(self) -> str:
        """How ``GeneratedWeights.apply`` computes ``x @ W(q)``; settable."""
        return self._path

    @path.setter
    def path(self, value: str) -> None:
        self._path = check_choice("path", value, PATHS)

    @property
    def num_layers(self) -> int:
        """N, the number of layers in the stack."""
        return self.args.num_layers

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Initialise as method.md section 2 says: every layer generates the shared weight."""
        if self.lors_shared_generator is not None:
            self.lors_shared_generator.reset_parameters()  # default bias
            nn.init.zeros_(self.lors_shared_generator.weight)
        r = self.args.rank
        for i in range(len(self.lors_core_generators)):
            gen = self.core_generator(i)
            nn.init.zeros_(gen.weight)
            if self.lors_shared_generator is None:
                # parts="private": no shared term carries the layer at step 0. With zero cores
                # every generated weight (M and S alike) would be 0, and each one's gradient is a
                # product with the other: an exact saddle where the mixing never trains. So the
                # core generator takes the shared generator's role: weight zeros, bias default.
                gen.reset_parameters()
                nn.init.zeros_(gen.weight)
            else:
                nn.init.zeros_(gen.bias)
            lefts, rights = self.outer_factors(i)
            for w in self.args.weights:
                _kaiming_uniform(lefts[w.name], fan_in=w.d_in * r)
                _kaiming_uniform(rights[w.name], fan_in=r * w.d_out)

    def core_generator(self, layer: int) -> nn.Linear:
        """The private core generator ``P_i`` of ``layer``."""
        gen = self.lors_core_generators[layer]
        assert isinstance(gen, nn.Linear)
        return gen

    def outer_factors(self, layer: int) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """``({name: L}, {name: R})`` of ``layer``: (count, d_in, K, r) and (count, K, r, d_out)."""
        lefts, rights = self.lors_left[layer], self.lors_right[layer]
        assert isinstance(lefts, nn.ParameterDict) and isinstance(rights, nn.ParameterDict)
        return dict(lefts.items()), dict(rights.items())

    def forward(self, query: torch.Tensor, layer: int) -> GeneratedWeights:
        """Generate the weights of ``layer`` for a batch of queries.

        Args:
            query: (B, query_dim).
            layer: 0..num_layers-1.

        Returns:
            A ``GeneratedWeights``; ``.apply(name, x)`` and ``.materialize(name)`` use it.

        Raises:
            ShapeError: ``query`` is not (B, query_dim).
            ConfigError: ``layer`` out of range.
        """
        if query.dim() != 2 or query.shape[1] != self.args.query_dim:
            raise ShapeError(
                f"query has shape {tuple(query.shape)}: expected "
                f"(B, query_dim={self.args.query_dim})"
            )
        if (
            isinstance(layer, bool)
            or not isinstance(layer, int)
            or not 0 <= layer < self.num_layers
        ):
            raise ConfigError(
                f"layer={layer!r} is invalid: expected an int in 0..{self.num_layers - 1}"
            )
        shared = None
        if self.lors_shared_generator is not None:
            shared = self.lors_shared_generator(query)
        cores = None
        left: dict[str, torch.Tensor] = {}
        right: dict[str, torch.Tensor] = {}
        if self.args.parts != "shared":
            cores = self.core_generator(layer)(query)
            left, right = self.outer_factors(layer)
        return GeneratedWeights(self.args, layer, self.path, shared, cores, left, right)

    def extra_repr(self) -> str:
        a = self.args
        specs = ", ".join(f"{w.name}: {w.count}x({w.d_in}, {w.d_out})" for w in a.weights)
        return (
            f"query_dim={a.query_dim}, weights=[{specs}], num_layers={a.num_layers}, "
            f"rank={a.rank}, groups={list(a.groups)}, parts={a.parts!r}, path={self.path!r}"
        )


def _kaiming_uniform(t: torch.Tensor, fan_in: int) -> None:
    # kaiming-uniform with a = 0: gain sqrt(2), bound gain * sqrt(3 / fan_in)
    bound = math.sqrt(6.0 / fan_in)
    nn.init.uniform_(t, -bound, bound)
