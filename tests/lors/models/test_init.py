"""Initialisation through the path mmengine's Runner takes: build, then ``model.init_weights()``.

Every module that declares an initialisation must receive it (a plain ``torch.nn.ModuleList``
of stages is skipped silently by mmengine), and the values must be the AdaMixer release's: a
1 % focal prior on the classifier, a box head and sampling-offset generator that start at zero,
the offsets' bias on the cell centres of a regular grid with ``dz = -1``, xavier-uniform linear
maps, and whole-image initial boxes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
from mmengine.model import BaseModule
from torch import nn

from lors.layers import AdaptiveLORS, StaticLORS
from lors.models.roi_heads.mixing import PlainGenerators
from tests.lors.models.conftest import REPO, SMOKE, SMOKE_LORS

PAPER = REPO / "configs" / "adamixer" / "adamixer_r50_1x_coco.py"
PAPER_LORS = REPO / "configs" / "adamixer_lors" / "adamixer_lors_r50_1x_coco.py"
CONFIGS = {"smoke": SMOKE, "smoke-lors": SMOKE_LORS, "paper": PAPER, "paper-lors": PAPER_LORS}


@pytest.fixture(scope="module")
def models() -> dict[str, nn.Module]:
    """Each detector built and initialised once (the paper ones take seconds)."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    from tests.lors.models.conftest import load_config

    init_default_scope("mmdet")
    out = {}
    for name, path in CONFIGS.items():
        torch.manual_seed(0)
        model = MODELS.build(load_config(path).model)
        model.init_weights()
        out[name] = model
    return out


def _grid_centres(points: int) -> torch.Tensor | None:
    """Expected (dx, dy) of each point, ``(P, 2)``: the release's cell centres, written out
    independently of the model code (None when ``points`` is not a square)."""
    side = math.isqrt(points)
    if side * side != points:
        return None
    centres = [-0.5 + (i + 0.5) / side for i in range(side)]
    return torch.tensor([[centres[i], centres[j]] for i in range(side) for j in range(side)])


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_base_module_is_initialised(models: dict[str, nn.Module], name: str) -> None:
    skipped = [
        f"{mod_name or '<root>'} ({type(module).__name__})"
        for mod_name, module in models[name].named_modules()
        if isinstance(module, BaseModule) and not module.is_init
    ]
    assert skipped == []


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_stage_values_are_the_releases(models: dict[str, nn.Module], name: str) -> None:
    decoder = models[name].roi_head
    prior = -math.log((1 - 0.01) / 0.01)  # -log(99)
    for index, stage in enumerate(decoder.stages):
        where = f"{name} stage {index}"
        assert abs(stage.fc_cls.bias.mean().item() - prior) < 1e-6, where
        assert torch.allclose(stage.fc_cls.bias, torch.full_like(stage.fc_cls.bias, prior)), where
        assert torch.count_nonzero(stage.fc_reg.weight) == 0, where
        assert torch.count_nonzero(stage.fc_reg.bias) == 0, where
        offsets = stage.sampling.offset_generator
        assert torch.count_nonzero(offsets.weight) == 0, where
        groups, points = stage.sampling.num_groups, stage.sampling.in_points
        bias = offsets.bias.detach().view(groups, points, 3)
        assert torch.equal(bias[..., 2], torch.full((groups, points), -1.0)), where
        expected = _grid_centres(points)
        if expected is None:
            assert bias[..., :2].abs().max() <= 0.5, where
        else:
            assert torch.allclose(bias[..., :2], expected.expand(groups, points, 2)), where
        tau = stage.attention.iof_tau
        assert bool(((tau >= 0) & (tau <= 4)).all()), where


@pytest.mark.parametrize("name", ["paper", "paper-lors"])
def test_stage_linear_maps_are_xavier(models: dict[str, nn.Module], name: str) -> None:
    """Xavier-uniform has std sqrt(2 / (fan_in + fan_out)); PyTorch's default init of a
    256 -> 2048 map has 1.22 times that, so a skipped init fails here."""
    for index, stage in enumerate(models[name].roi_head.stages):
        for layer in (
            stage.ffn[0],
            stage.ffn[2],
            stage.cls_branch[0],
            stage.attention.attn.out_proj,
        ):
            fan_out, fan_in = layer.weight.shape
            want = math.sqrt(2.0 / (fan_in + fan_out))
            got = layer.weight.std().item()
            assert abs(got / want - 1) < 0.05, f"{name} stage {index}: std {got} want {want}"


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_mixing_starts_as_the_method_says(models: dict[str, nn.Module], name: str) -> None:
    mixing = models[name].roi_head.mixing
    generator, projection = mixing.generator, mixing.out_proj
    if isinstance(generator, PlainGenerators):
        for linear in generator.layers:
            assert torch.count_nonzero(linear.weight) == 0
    else:
        assert isinstance(generator, AdaptiveLORS)
        assert torch.count_nonzero(generator.lors_shared_generator.weight) == 0
        for layer in range(generator.num_layers):
            core = generator.core_generator(layer)
            assert torch.count_nonzero(core.weight) == 0 and torch.count_nonzero(core.bias) == 0
    if isinstance(projection, StaticLORS):
        zeros = [*projection.lors_b, *projection.lors_bias]
        assert zeros and all(torch.count_nonzero(p) == 0 for p in zeros)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_initial_boxes_are_the_releases_embedding(models: dict[str, nn.Module], name: str) -> None:
    queries = models[name].rpn_head
    boxes = queries.init_proposal_bboxes
    assert isinstance(boxes, nn.Embedding)
    assert boxes.weight.shape == (queries.num_queries, 4)
    want = torch.tensor([0.5, 0.5, 1.0, 1.0]).expand(queries.num_queries, 4)
    assert torch.equal(boxes.weight.detach(), want)


def test_initial_boxes_cover_the_image_and_never_learn(build_detector: Callable) -> None:
    from mmengine.structures import InstanceData

    model = build_detector(SMOKE)
    sample = type("Sample", (), {"metainfo": {"img_shape": (96, 128)}})()
    (result,) = model.rpn_head.predict((torch.zeros(1, 8, 4, 4),), [sample])
    assert isinstance(result, InstanceData)
    assert torch.allclose(
        result.bboxes, torch.tensor([0.0, 0.0, 128.0, 96.0]).expand_as(result.bboxes)
    )
    x, y, z, r = result.xyzr[0].tolist()
    assert (x, y) == (64.0, 48.0)
    assert z == pytest.approx(0.5 * math.log2(128 * 96)) and r == pytest.approx(math.log2(96 / 128))
    assert not result.xyzr.requires_grad
    assert not model.rpn_head.init_proposal_bboxes.weight.requires_grad
