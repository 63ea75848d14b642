"""What one layer of LORS_A produced for a batch of queries, and how to apply it.

``AdaptiveLORS(query, layer)`` returns a ``GeneratedWeights``: the shared generator's output and
the layer's r x r cores, plus the layer's outer factors. ``apply(name, x)`` computes ``x @ W(q)``
by the path the layer is set to (``auto`` asks ``lors.layers.cost`` per weight and input size);
``materialize(name)`` returns the full per-query weight.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import torch

from lors.errors import ConfigError, ShapeError
from lors.layers.amp import compute_dtype
from lors.layers.cost import choose_path_on
from lors.layers.paths import apply_weight, materialize
from lors.spec import AdaptiveArgs, WeightSpec

logger = logging.getLogger(__name__)


class GeneratedWeights:
    """The weights of one LORS_A layer for a batch of B queries.

    Args:
        args: the checked arguments of the stack.
        layer: which layer produced them.
        path: ``auto``, ``materialized``, ``fused`` or ``factorized``.
        shared: the shared generator's output (B, count * sum(d_in*d_out)), or None
            (``parts="private"``).
        cores: the layer's core generator output (B, count * S * K * r * r), or None
            (``parts="shared"``).
        left: ``{name: (count, d_in, K, r)}`` outer factors L of the layer (empty without cores).
        right: ``{name: (count, K, r, d_out)}`` outer factors R of the layer.
    """

    def __init__(
        self,
        args: AdaptiveArgs,
        layer: int,
        path: str,
        shared: torch.Tensor | None,
        cores: torch.Tensor | None,
        left: Mapping[str, torch.Tensor],
        right: Mapping[str, torch.Tensor],
    ) -> None:
        self.args = args
        self.layer = layer
        self.path = path
        self._specs = {s.name: (i, s) for i, s in enumerate(args.weights)}
        self._left = left
        self._right = right
        ref = shared if shared is not None else cores
        assert ref is not None
        self.batch = ref.shape[0]
        b, c = self.batch, args.count
        self._shared: dict[str, torch.Tensor] = {}
        if shared is not None:
            sizes = [s.numel for s in args.weights]
            # (B, c * sum(d_in*d_out)) -> (B, c, sum(d_in*d_out)): group-major, specs in order
            per_group = shared.view(b, c, sum(sizes))
            for s, block in zip(args.weights, per_group.split(sizes, dim=2), strict=True):
                self._shared[s.name] = block.unflatten(2, (s.d_in, s.d_out))  # (B, c, d_in, d_out)
        self._cores: torch.Tensor | None = None
        if cores is not None:
            k, r = args.groups[layer], args.rank
            # (B, c * S * K * r * r) -> (B, c, S, K, r, r): group outer, then spec, then k
            self._cores = cores.view(b, c, len(args.weights), k, r, r)

    def spec(self, name: str) -> WeightSpec:
        """The ``WeightSpec`` called ``name``."""
        if name not in self._specs:
            raise ConfigError(
                f"weight name={name!r} is unknown: expected one of {', '.join(self._specs)}"
            )
        return self._specs[name][1]

    def shared(self, name: str) -> torch.Tensor | None:
        """The shared generator's weight ``name`` (B, count, d_in, d_out), a view; or None."""
        self.spec(name)
        return self._shared.get(name)

    def cores(self, name: str) -> torch.Tensor | None:
        """The generated cores ``Z`` of weight ``name`` (B, count, K, r, r), a view; or None."""
        index = self._specs[self.spec(name).name][0]
        return None if self._cores is None else self._cores[:, :, index]

    def _factors(self, name: str) -> tuple[torch.Tensor | None, ...]:
        return self.shared(name), self.cores(name), self._left.get(name), self._right.get(name)

    def path_for(
        self, name: str, n: int, dtype: torch.dtype = torch.float32, device_type: str = "cpu"
    ) -> str:
        """The path ``apply(name, x)`` takes for an ``x`` with ``n`` rows per query and group, of
        ``dtype`` on a device of kind ``device_type`` (``auto``: ``cost.choose_path_on``)."""
        if self.path != "auto":
            return self.path
        s = self.spec(name)
        k = self.args.groups[self.layer]
        element = torch.empty((), dtype=dtype).element_size()
        return choose_path_on(
            device_type, n, s.d_in, s.d_out, k, self.args.rank, self.batch, s.count, element
        )

    def apply(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """``x @ W(q)`` for weight ``name``.

        Args:
            name: the weight spec's name.
            x: (B, count, n, d_in), any strides.

        Returns:
            (B, count, n, d_out).

        Raises:
            ShapeError: ``x`` does not have the shape above.
        """
        s = self.spec(name)
        if x.dim() != 4 or (x.shape[0], x.shape[1], x.shape[3]) != (self.batch, s.count, s.d_in):
            raise ShapeError(
                f"x of weight {name!r} has shape {tuple(x.shape)}: expected "
                f"(B={self.batch}, count={s.count}, n, d_in={s.d_in})"
            )
        shared, cores, left, right = self._factors(name)
        path = self.path_for(name, x.shape[2], compute_dtype(x, shared, cores), x.device.type)
        logger.debug("layer %d weight %s: path %s", self.layer, name, path)
        return apply_weight(path, x, shared, cores, left, right)

    def materialize(self, name: str) -> torch.Tensor:
        """The full per-query weight ``W(q)`` of ``name``: (B, count, d_in, d_out)."""
        return materialize(*self._factors(name))
