"""AdaMixer+LORS at init: every stage mixes with the same weights (private terms are zero)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from tests.lors.models.conftest import SMOKE, SMOKE_LORS


def _stage_outputs(model: torch.nn.Module) -> list[torch.Tensor]:
    """The mixing block's output of every stage for the same random inputs."""
    mixing, num_stages = model.roi_head.mixing, model.roi_head.num_stages
    dim = model.rpn_head.content_dim
    torch.manual_seed(1)
    groups, points = mixing.num_groups, mixing.in_points
    content = torch.randn(2, 5, dim)  # (B, N, C)
    sampled = torch.randn(2, 5, groups, points, dim // groups)  # (B, N, G, Pin, Cg)
    with torch.no_grad():
        return [mixing(content, sampled, layer=i) for i in range(num_stages)]


@pytest.mark.parametrize("parts", ["both", "shared"])
def test_lors_stages_start_with_the_same_mixing(parts: str, build_detector: Callable) -> None:
    model = build_detector(SMOKE_LORS, {"model.roi_head.lors_cfg.parts": parts})
    decoder = model.roi_head
    mixing = decoder.mixing
    query = torch.randn(7, model.rpn_head.content_dim)
    first = mixing.generator(query, layer=0)
    for layer in range(1, decoder.num_stages):
        gen = mixing.generator(query, layer=layer)
        for name in ("M", "S"):
            torch.testing.assert_close(gen.materialize(name), first.materialize(name))
        torch.testing.assert_close(mixing.out_proj.weight(layer), mixing.out_proj.weight(0))
        torch.testing.assert_close(mixing.out_proj.bias(layer), mixing.out_proj.bias(0))
    outputs = _stage_outputs(model)
    for out in outputs[1:]:
        torch.testing.assert_close(out, outputs[0])


def test_private_terms_are_exactly_zero_at_init(build_detector: Callable) -> None:
    model = build_detector(SMOKE_LORS)
    mixing = model.roi_head.mixing
    for gen in mixing.generator.lors_core_generators:
        assert not gen.weight.any() and not gen.bias.any()
    for layer in range(model.roi_head.num_stages):
        assert not mixing.out_proj.private_weight(layer).any()


def test_after_a_step_the_stages_differ(build_detector: Callable) -> None:
    """The identity above is a start, not a constraint: one update makes the stages differ."""
    from mmdet.testing import demo_mm_inputs

    model = build_detector(SMOKE_LORS)
    packed = demo_mm_inputs(batch_size=2, image_shapes=(3, 64, 64), num_items=[2, 2], num_classes=3)
    data = model.data_preprocessor(packed, True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    sum(model.loss(data["inputs"], data["data_samples"]).values()).backward()
    optimizer.step()
    outputs = _stage_outputs(model)
    assert not torch.allclose(outputs[1], outputs[0])


def test_plain_stages_are_independent(build_detector: Callable) -> None:
    """Plain AdaMixer has one generator per stage: nothing ties the stages together."""
    model = build_detector(SMOKE)
    outputs = _stage_outputs(model)
    assert not torch.allclose(outputs[1], outputs[0])
