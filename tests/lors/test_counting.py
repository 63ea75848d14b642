"""The closed-form counts equal the parameters of the built layers, per layer and in total."""

from __future__ import annotations

import subprocess
import sys

import pytest
from torch import nn

from lors.counting import (
    ParamCount,
    adaptive_lors_params,
    plain_adaptive_params,
    plain_static_params,
    static_lors_params,
)
from lors.layers import AdaptiveLORS, StaticLORS, WeightSpec, is_shared_parameter

ADAMIXER = [WeightSpec("M", 2, 128, 128), WeightSpec("S", 2, 64, 128)]


def _numel(module: nn.Module) -> tuple[int, int]:
    shared = sum(p.numel() for n, p in module.named_parameters() if is_shared_parameter(n))
    total = sum(p.numel() for p in module.parameters())
    return shared, total - shared


def _layer_numel(module: nn.Module, layer: int) -> int:
    """Parameters whose name carries the layer index as its own component (ModuleList/ParamList)."""
    return sum(
        p.numel()
        for n, p in module.named_parameters()
        if not is_shared_parameter(n) and n.split(".")[1] == str(layer)
    )


STATIC = [
    # in, out, N, r, K, parts, bias
    (16, 12, 1, 1, 1, "both", True),
    (16, 12, 6, 4, 1, "both", True),
    (16, 12, 6, 4, 3, "both", False),
    (16, 12, 4, 2, [1, 2, 3, 4], "both", True),
    (16, 12, 4, 2, [1, 2, 3, 4], "private", True),
    (16, 12, 4, 2, 2, "shared", True),
    (16, 12, 4, 2, 2, "shared", False),
    (300, 7, 3, 7, [2, 1, 1], "private", False),
]


@pytest.mark.parametrize(("d_in", "d_out", "n", "r", "k", "parts", "bias"), STATIC)
def test_static_formula_equals_numel(
    d_in: int, d_out: int, n: int, r: int, k: int | list[int], parts: str, bias: bool
) -> None:
    count = static_lors_params(d_in, d_out, n, r, k, parts, bias)
    layer = StaticLORS(d_in, d_out, n, r, k, parts, bias)
    assert (count.shared, count.total - count.shared) == _numel(layer)
    assert count.private == tuple(_layer_numel(layer, i) for i in range(n))


ADAPTIVE = [
    # d_q, weights, N, r, K, parts
    (8, [WeightSpec("W", 1, 5, 3)], 1, 1, 1, "both"),
    (8, [WeightSpec("M", 2, 6, 6), WeightSpec("S", 2, 4, 7)], 3, 2, 2, "both"),
    (8, [WeightSpec("M", 3, 6, 6), WeightSpec("S", 3, 4, 7)], 3, 3, [1, 3, 2], "both"),
    (8, [WeightSpec("M", 2, 6, 6), WeightSpec("S", 2, 4, 7)], 3, 2, [2, 1, 1], "private"),
    (8, [WeightSpec("M", 2, 6, 6), WeightSpec("S", 2, 4, 7)], 3, 2, 2, "shared"),
    (32, ADAMIXER, 6, 16, [1, 1, 2, 2, 3, 3], "both"),
]


@pytest.mark.parametrize(("d_q", "weights", "n", "r", "k", "parts"), ADAPTIVE)
def test_adaptive_formula_equals_numel(
    d_q: int, weights: list[WeightSpec], n: int, r: int, k: int | list[int], parts: str
) -> None:
    count = adaptive_lors_params(d_q, weights, n, r, k, parts)
    layer = AdaptiveLORS(d_q, weights, n, r, k, parts)
    assert (count.shared, count.total - count.shared) == _numel(layer)
    assert count.private == tuple(_layer_numel(layer, i) for i in range(n))


@pytest.mark.parametrize("n", [1, 3, 6])
def test_plain_counts_equal_numel_of_plain_stacks(n: int) -> None:
    linears = nn.ModuleList(nn.Linear(16, 12) for _ in range(n))
    assert plain_static_params(16, 12, n).total == sum(p.numel() for p in linears.parameters())
    gens = nn.ModuleList(nn.Linear(32, 2 * (128 * 128 + 64 * 128)) for _ in range(n))
    assert plain_adaptive_params(32, ADAMIXER, n).total == sum(p.numel() for p in gens.parameters())


def test_release_setting_numbers() -> None:
    """The release's decoder setting (method.md section 4), worked by hand from section 2."""
    lors_a = adaptive_lors_params(256, ADAMIXER, 6, 16, [1, 1, 2, 2, 3, 3])
    assert lors_a.shared == 257 * 2 * (128 * 128 + 64 * 128)
    # per K: cores 257 * 2 groups * 2 weights * 16^2 + factors 2 * 16 * ((128+128) + (64+128))
    assert lors_a.private[0] == 257 * 2 * 2 * 256 + 2 * 16 * (256 + 192)
    assert lors_a.private[5] == 3 * lors_a.private[0]
    lors_t = static_lors_params(2 * 128 * 128, 256, 6, 8)
    assert lors_t.private == (8 * (32768 + 256) + 256,) * 6
    # 6 * 257 * 49152 against 257 * 49152 + 12 * (263168 + 14336)
    assert plain_adaptive_params(256, ADAMIXER, 6).total == 75_792_384
    assert lors_a.total == 15_962_112


def test_per_layer_shrinks_with_depth_and_sums() -> None:
    """Table 1's column: per-layer parameters of LORS fall with N; plain stays flat."""
    per_layer = [static_lors_params(512, 512, n, 8).per_layer for n in (1, 2, 4, 8)]
    assert per_layer == sorted(per_layer, reverse=True)
    assert {plain_static_params(512, 512, n).per_layer for n in (1, 2, 4, 8)} == {512 * 513}
    both = static_lors_params(4, 4, 2, 1) + adaptive_lors_params(
        4, [WeightSpec("W", 1, 2, 2)], 2, 1
    )
    assert isinstance(both, ParamCount) and both.num_layers == 2
    assert (
        both.total
        == static_lors_params(4, 4, 2, 1).total
        + adaptive_lors_params(4, [WeightSpec("W", 1, 2, 2)], 2, 1).total
    )
    with pytest.raises(ValueError, match="2 and 3 layers"):
        _ = both + static_lors_params(4, 4, 3, 1)


def test_counting_imports_no_torch() -> None:
    code = (
        "import sys, lors, lors.counting, lors.spec\n"
        "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
