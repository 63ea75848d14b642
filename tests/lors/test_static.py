"""LORS_T: starts as the shared weight, computes x W_i^T + b_i, survives a state_dict round trip."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from lors.errors import ConfigError
from lors.layers import StaticLORS, is_lors_parameter

CASES = [("both", 2), ("both", [1, 3, 2]), ("shared", 2), ("private", [2, 1, 1])]


@pytest.mark.parametrize(("parts", "groups"), CASES)
def test_every_layer_starts_as_the_shared_map(parts: str, groups: int | list[int]) -> None:
    torch.manual_seed(0)
    layer = StaticLORS(10, 6, 3, 2, groups, parts)
    x = torch.randn(4, 10)
    outs = [layer(x, i) for i in range(3)]
    for out in outs[1:]:
        torch.testing.assert_close(out, outs[0], rtol=0, atol=0)
    if parts == "private":
        assert torch.count_nonzero(outs[0]) == 0  # no shared weight: each layer is its zero term
    else:
        assert layer.lors_shared is not None
        expected = F.linear(x, layer.lors_shared, layer.lors_shared_bias)
        torch.testing.assert_close(outs[0], expected, rtol=0, atol=0)


def test_init_distributions() -> None:
    torch.manual_seed(0)
    layer = StaticLORS(400, 300, 2, 8, 3)
    assert layer.lors_shared is not None
    # nn.Linear's default bound 1/sqrt(fan_in); A kaiming-uniform a=0: sqrt(6/fan_in)
    assert layer.lors_shared.abs().max() <= 1 / math.sqrt(400)
    assert layer.lors_shared.abs().max() > 0.9 / math.sqrt(400)
    for a in layer.lors_a:
        assert a.abs().max() <= math.sqrt(6 / 400)
        assert a.abs().max() > 0.9 * math.sqrt(6 / 400)
    assert all(torch.count_nonzero(t) == 0 for t in [*layer.lors_b, *layer.lors_bias])


@pytest.mark.parametrize(("parts", "groups"), CASES)
def test_forward_is_linear_with_the_fused_weight(parts: str, groups: int | list[int]) -> None:
    torch.manual_seed(1)
    layer = StaticLORS(10, 6, 3, 2, groups, parts).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.normal_()
    x = torch.randn(2, 5, 10, dtype=torch.double)
    for i in range(3):
        weight = torch.zeros(6, 10, dtype=torch.double)
        if layer.lors_shared is not None:
            weight = weight + layer.lors_shared
        if parts != "shared":
            a, b = layer.lors_a[i], layer.lors_b[i]
            for k in range(a.shape[0]):
                weight = weight + b[:, k] @ a[k]  # B_k A_k: (out, r) @ (r, in)
        bias = layer.lors_shared_bias if parts == "shared" else layer.lors_bias[i]
        assert bias is not None
        torch.testing.assert_close(layer(x, i), x @ weight.T + bias)
        torch.testing.assert_close(layer.weight(i), weight)


def test_layers_differ_after_a_step_and_grads_reach_every_part() -> None:
    torch.manual_seed(2)
    layer = StaticLORS(8, 8, 2, 2)
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    x = torch.randn(16, 8)
    loss = (layer(x, 0) - 1).pow(2).sum() + (layer(x, 1) + 1).pow(2).sum()
    loss.backward()
    assert layer.lors_a[0].grad is not None and torch.count_nonzero(layer.lors_a[0].grad) == 0
    assert layer.lors_b[0].grad is not None and torch.count_nonzero(layer.lors_b[0].grad) > 0
    opt.step()
    assert not torch.allclose(layer(x, 0), layer(x, 1))


def test_names_state_dict_round_trip() -> None:
    torch.manual_seed(3)
    layer = StaticLORS(8, 4, 3, 2, [1, 2, 1], bias=True)
    names = [n for n, _ in layer.named_parameters()]
    assert names and all(is_lors_parameter(n) for n in names)
    assert all(n.split(".")[0].startswith("lors_") for n in names)
    with torch.no_grad():
        for p in layer.parameters():
            p.normal_()
    other = StaticLORS(8, 4, 3, 2, [1, 2, 1], bias=True)
    other.load_state_dict(layer.state_dict())
    x = torch.randn(3, 8)
    for i in range(3):
        torch.testing.assert_close(other(x, i), layer(x, i), rtol=0, atol=0)
    with pytest.raises(RuntimeError):
        StaticLORS(8, 4, 3, 2, [2, 2, 1]).load_state_dict(layer.state_dict())


def test_no_bias_and_bad_layer() -> None:
    layer = StaticLORS(8, 4, 2, 2, bias=False)
    assert layer.bias(0) is None and len(layer.lors_bias) == 0
    with pytest.raises(ConfigError, match=r"layer=2 is invalid: expected 0\.\.1"):
        layer(torch.randn(1, 8), 2)
