"""Both detectors build from their configs through mmdet's registry, train and predict."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from mmdet.models.detectors import SparseRCNN
from mmdet.testing import demo_mm_inputs
from mmengine.registry import init_default_scope

from lors.errors import ConfigError
from lors.layers import AdaptiveLORS, StaticLORS
from lors.models import AdaMixerDecoder, AdaMixerQueryGenerator, ChannelMapping
from lors.models.roi_heads.mixing import PlainGenerators, PlainLinears
from tests.lors.models.conftest import REPO, SMOKE, SMOKE_LORS

VARIANTS = sorted((REPO / "configs").glob("adamixer*/*.py"))


def _batch(model: torch.nn.Module, training: bool, num_items: list[int] | None = None) -> dict:
    packed = demo_mm_inputs(
        batch_size=2, image_shapes=(3, 96, 128), num_items=num_items or [3, 1], num_classes=3
    )
    return model.data_preprocessor(packed, training)


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: p.name)
def test_every_paper_config_builds(path, build_detector: Callable) -> None:
    model = build_detector(path, device="meta")
    assert isinstance(model, SparseRCNN)
    assert isinstance(model.neck, ChannelMapping)
    assert isinstance(model.rpn_head, AdaMixerQueryGenerator)
    assert isinstance(model.roi_head, AdaMixerDecoder)
    assert len(model.roi_head.stages) == 6
    lors = "lors" in path.name
    assert isinstance(model.roi_head.mixing.generator, AdaptiveLORS if lors else PlainGenerators)
    assert isinstance(model.roi_head.mixing.out_proj, StaticLORS if lors else PlainLinears)
    expected_queries = 300 if "300q" in path.name else 100
    assert model.rpn_head.content.num_embeddings == expected_queries


def test_paper_backbones_keep_their_pretrained_init(build_detector: Callable) -> None:
    from mmengine.config import Config

    for path in VARIANTS:
        init_cfg = Config.fromfile(str(path)).model.backbone.init_cfg
        assert init_cfg.type == "Pretrained", path.name


@pytest.mark.parametrize("path", [SMOKE, SMOKE_LORS], ids=["plain", "lors"])
def test_loss_backward_and_predict(path, build_detector: Callable) -> None:
    model = build_detector(path)
    model.train()
    data = _batch(model, training=True)
    losses = model.loss(data["inputs"], data["data_samples"])
    stages = model.roi_head.num_stages
    expected = {f"s{i}.{k}" for i in range(stages) for k in ("loss_cls", "loss_bbox", "loss_iou")}
    assert set(losses) == expected
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    no_grad = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert no_grad == []

    model.eval()
    data = _batch(model, training=False)
    with torch.no_grad():
        results = model.predict(data["inputs"], data["data_samples"])
    for sample in results:
        pred = sample.pred_instances
        assert len(pred) == model.rpn_head.num_queries
        boxes = pred.bboxes
        assert (boxes[:, 2] >= boxes[:, 0]).all() and (boxes[:, 3] >= boxes[:, 1]).all()
        assert ((pred.scores >= 0) & (pred.scores <= 1)).all()
        assert pred.labels.max() < 3


def test_images_without_objects_still_train(build_detector: Callable) -> None:
    model = build_detector(SMOKE_LORS)
    data = _batch(model, training=True, num_items=[0, 0])
    losses = model.loss(data["inputs"], data["data_samples"])
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()


def test_tensor_mode_returns_every_stage(build_detector: Callable) -> None:
    model = build_detector(SMOKE)
    data = _batch(model, training=False)
    (outs,) = model(data["inputs"], data["data_samples"], mode="tensor")
    assert len(outs) == 2 * model.roi_head.num_stages
    assert outs[0].shape == (2, model.rpn_head.num_queries, 3)
    assert outs[1].shape == (2, model.rpn_head.num_queries, 4)


@pytest.mark.parametrize(
    ("options", "stages", "queries"),
    [
        ({"model.roi_head.num_stages": 2}, 2, 30),
        ({"model.rpn_head.num_queries": 7}, 3, 7),
        ({"model.roi_head.num_stages": 1, "model.rpn_head.num_queries": 50}, 1, 50),
    ],
)
def test_knob_overrides_change_the_build(
    options: dict, stages: int, queries: int, build_detector: Callable
) -> None:
    model = build_detector(SMOKE, options)
    assert len(model.roi_head.stages) == stages
    assert len(model.roi_head.mixing.generator.layers) == stages
    model.eval()
    data = _batch(model, training=False)
    with torch.no_grad():
        results = model.predict(data["inputs"], data["data_samples"])
    assert [len(r.pred_instances) for r in results] == [queries, queries]


@pytest.mark.parametrize(
    ("options", "shapes"),
    [
        ({"model.roi_head.num_groups": 8}, {"sampling": 8 * 16 * 3}),
        ({"model.roi_head.in_points": 9}, {"sampling": 4 * 9 * 3}),
    ],
)
def test_sampling_knobs_reach_every_stage(
    options: dict, shapes: dict, build_detector: Callable
) -> None:
    model = build_detector(SMOKE, options)
    for stage in model.roi_head.stages:
        assert stage.sampling.offset_generator.out_features == shapes["sampling"]


def test_lors_knobs_reach_the_layers(build_detector: Callable) -> None:
    options = {
        "model.roi_head.num_stages": 2,
        "model.roi_head.lors_cfg.adaptive_groups": [2, 1],
        "model.roi_head.lors_cfg.adaptive_rank": 4,
        "model.roi_head.lors_cfg.static_rank": 3,
    }
    model = build_detector(SMOKE_LORS, options)
    adaptive = model.roi_head.mixing.generator
    assert adaptive.args.groups == (2, 1) and adaptive.args.rank == 4
    assert model.roi_head.mixing.out_proj.args.rank == 3


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"model.roi_head.lors_cfg.rank": 4}, "valid keys: ['adaptive', 'adaptive_rank'"),
        ({"model.roi_head.num_stages": 4}, "expected 4 (model.roi_head.num_stages)"),
        ({"model.roi_head.lors_cfg.adaptive_groups": [1, 2]}, "has 2 entries; expected 3"),
        ({"model.roi_head.lors_cfg.parts": "none"}, "must be one of ['both', 'shared', 'private']"),
        ({"model.roi_head.num_groups": 3}, "num_groups=3 must divide content_dim=64"),
    ],
)
def test_bad_decoder_config_fails_at_build(
    options: dict, expected: str, build_detector: Callable
) -> None:
    with pytest.raises(ConfigError) as info:
        build_detector(SMOKE_LORS, options, device="meta")
    assert expected in str(info.value)


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: p.name)
def test_every_paper_pipeline_and_schedule_builds(path) -> None:
    """The data transforms (the 3x crop + multi-scale recipe included), optimizer wrapper and
    schedulers of each paper config are valid mmdet / mmengine components."""
    from mmdet.registry import TRANSFORMS
    from mmengine.config import Config
    from mmengine.registry import PARAM_SCHEDULERS

    init_default_scope("mmdet")
    cfg = Config.fromfile(str(path))
    for loader in ("train_dataloader", "val_dataloader"):
        for transform in cfg[loader].dataset.pipeline:
            assert TRANSFORMS.build(transform) is not None
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    for scheduler in cfg.param_scheduler:
        PARAM_SCHEDULERS.build(dict(scheduler, optimizer=optimizer))
    assert cfg.optim_wrapper.optimizer.lr == 2.5e-5
    assert cfg.train_cfg.max_epochs == (36 if "3x" in path.name else 12)
