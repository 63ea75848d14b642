"""The cost model behind path="auto": what it counts and what it decides."""

from __future__ import annotations

import itertools

import pytest
import torch

from lors.layers import AdaptiveLORS, WeightSpec
from lors.layers.cost import choose_path, choose_path_on, launches, path_costs


@pytest.mark.parametrize("k", [1, 2, 3])
def test_adamixer_shapes(k: int) -> None:
    # M: x (P_in=64 rows, C_g=128) @ (128, 128); S: x^T (C_g=128 rows, P_in=64) @ (64, 128)
    assert choose_path(64, 128, 128, k, 16) == "factorized"
    assert choose_path(128, 64, 128, k, 16) == "fused"


def test_materialized_loses_from_two_pairs_on_and_costs_grow_with_k() -> None:
    for n, d_in, d_out, r in itertools.product([1, 16, 256], [8, 64, 256], [8, 64, 256], [1, 8]):
        if r > min(d_in, d_out):
            continue
        previous = None
        for k in (1, 2, 4):
            costs = path_costs(n, d_in, d_out, k, r)
            if k > 1 and k * r <= min(d_in, d_out):  # K + 1 stacked matrices against one
                assert costs["materialized"].cost > costs["fused"].cost
            if previous is not None:
                assert all(costs[p].cost > previous[p].cost for p in costs)
            previous = costs


def test_rows_decide_between_fused_and_factorized() -> None:
    """Few rows per query: never form the weight; many rows: forming it once is cheaper."""
    assert choose_path(1, 128, 128, 3, 16) == "factorized"
    assert choose_path(4096, 128, 128, 3, 16) == "fused"
    few, many = path_costs(1, 128, 128, 3, 16), path_costs(4096, 128, 128, 3, 16)
    assert few["fused"].flops == many["fused"].flops  # the fused path does not depend on n
    assert few["factorized"].flops < many["factorized"].flops


def test_counts_are_flops_and_bytes() -> None:
    c = path_costs(2, 3, 5, 1, 1, element_bytes=2, balance=10.0)["fused"]
    # MACs 4*3*1*5 + 4*3*1*1 = 72 -> 144 FLOPs; elements 8*15 + 7*3 = 141 -> 282 bytes
    assert (c.flops, c.bytes, c.cost) == (144, 282, 144 + 10.0 * 282)


def test_auto_asks_the_model_and_fixed_paths_do_not() -> None:
    specs = [WeightSpec("M", 2, 128, 128), WeightSpec("S", 2, 64, 128)]
    layer = AdaptiveLORS(16, specs, 1, 16, 3)
    gen = layer(torch.zeros(1, 16), 0)
    assert (gen.path_for("M", 64), gen.path_for("S", 128)) == ("factorized", "fused")
    layer.path = "materialized"
    gen = layer(torch.zeros(1, 16), 0)
    assert (gen.path_for("M", 64), gen.path_for("S", 128)) == ("materialized",) * 2


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_auto_is_a_pure_function_of_device_shape_and_k(device: str) -> None:
    """Deterministic: the same device kind, shape, K and dtype always give the same path."""
    cases = list(itertools.product([64, 128], [1, 2, 3], [2, 4], [200, 600]))
    first = [choose_path_on(device, n, 128, 128, k, 16, b, 2, e) for n, k, e, b in cases]
    again = [choose_path_on(device, n, 128, 128, k, 16, b, 2, e) for n, k, e, b in cases]
    assert first == again


def test_auto_per_device_at_the_release_shapes() -> None:
    """CPU: M factorized and S fused (measured); CUDA: the release's arithmetic (estimated)."""
    for k in (1, 2, 3):
        assert choose_path_on("cpu", 64, 128, 128, k, 16, 600, 2) == "factorized"
        assert choose_path_on("cpu", 128, 64, 128, k, 16, 600, 2) == "fused"
        assert choose_path_on("cuda", 64, 128, 128, k, 16, 600, 2) == "materialized"
        assert choose_path_on("cuda", 128, 64, 128, k, 16, 600, 2) == "materialized"
    # a call's cost is shared by its queries: a big enough batch turns CUDA to the cheap path
    assert choose_path_on("cuda", 64, 128, 128, 3, 16, 10**6, 2) == "factorized"
    assert launches("fused", 3, 2) > launches("fused", 1, 2)


def test_generated_weights_ask_the_device_model() -> None:
    specs = [WeightSpec("M", 2, 128, 128), WeightSpec("S", 2, 64, 128)]
    gen = AdaptiveLORS(16, specs, 1, 16, 3)(torch.zeros(600, 16), 0)
    assert gen.path_for("M", 64, device_type="cpu") == "factorized"
    assert gen.path_for("M", 64, device_type="cuda") == "materialized"
