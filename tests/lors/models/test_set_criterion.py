"""One-to-one matching and the losses of a stage, with mmdet's assigner and losses."""

from __future__ import annotations

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from lors.models.roi_heads.set_criterion import SetCriterion
from tests.lors.models.conftest import SMOKE


@pytest.fixture
def criterion() -> SetCriterion:
    init_default_scope("mmdet")
    roi = Config.fromfile(str(SMOKE)).model
    return SetCriterion(
        num_classes=3,
        assigner=roi.train_cfg.rcnn.assigner,
        loss_cls=roi.roi_head.loss_cls,
        loss_bbox=roi.roi_head.loss_bbox,
        loss_iou=roi.roi_head.loss_iou,
    )


def test_exact_predictions_match_and_cost_nothing_in_boxes(criterion: SetCriterion) -> None:
    gt_boxes = torch.tensor([[10.0, 10.0, 40.0, 30.0], [60.0, 50.0, 90.0, 100.0]])
    gt = InstanceData(bboxes=gt_boxes, labels=torch.tensor([2, 0]))
    # query 3 predicts gt 0, query 1 predicts gt 1; the rest are far away
    boxes = torch.tensor([[0.0, 0.0, 5.0, 5.0]]).repeat(5, 1)
    boxes[3], boxes[1] = gt_boxes[0], gt_boxes[1]
    logits = torch.full((5, 3), -5.0)
    logits[3, 2] = logits[1, 0] = 5.0
    meta = {"img_shape": (128, 128)}
    query_inds, gt_inds = criterion._match(logits, boxes, gt, meta)
    assert dict(zip(query_inds.tolist(), gt_inds.tolist(), strict=True)) == {1: 1, 3: 0}
    losses = criterion(logits[None], boxes[None], [gt], [meta])
    assert losses["loss_bbox"].item() == pytest.approx(0.0, abs=1e-6)
    assert losses["loss_iou"].item() == pytest.approx(0.0, abs=1e-6)
    assert 0 < losses["loss_cls"].item() < 0.1


def test_losses_grow_with_the_box_error(criterion: SetCriterion) -> None:
    gt = InstanceData(bboxes=torch.tensor([[10.0, 10.0, 40.0, 30.0]]), labels=torch.tensor([1]))
    logits = torch.zeros(1, 2, 3)
    meta = {"img_shape": (128, 128)}
    near = torch.tensor([[[11.0, 10.0, 41.0, 30.0], [90.0, 90.0, 100.0, 100.0]]])
    far = torch.tensor([[[20.0, 10.0, 50.0, 30.0], [90.0, 90.0, 100.0, 100.0]]])
    loss_near = criterion(logits, near, [gt], [meta])
    loss_far = criterion(logits, far, [gt], [meta])
    assert loss_far["loss_bbox"] > loss_near["loss_bbox"] > 0
    assert loss_far["loss_iou"] > loss_near["loss_iou"] > 0
