"""Per-stage one-to-one matching and losses of a query-based detector stage.

Everything comes from mmdet: the Hungarian assigner with its match costs, and the focal, L1 and
GIoU losses, built from config dicts. What this module adds is the glue: match each image, build
the targets, normalise L1 boxes by the image size and average over the matched pairs of the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from mmdet.registry import MODELS, TASK_UTILS
from mmdet.structures.bbox import get_box_tensor
from mmdet.utils import reduce_mean
from mmengine.structures import InstanceData
from torch import Tensor, nn


class SetCriterion(nn.Module):
    """Hungarian matching and the three losses of one stage.

    Args:
        num_classes: object classes; unmatched queries are trained towards background
            (label ``num_classes``, all sigmoid outputs low).
        assigner: config of the assigner (mmdet ``HungarianAssigner`` with its match costs).
        loss_cls: config of the classification loss (``FocalLoss`` with ``use_sigmoid=True``).
        loss_bbox: config of the box loss on boxes normalised by the image size (``L1Loss``).
        loss_iou: config of the IoU loss on pixel boxes (``GIoULoss``).
    """

    def __init__(
        self,
        num_classes: int,
        assigner: dict,
        loss_cls: dict,
        loss_bbox: dict,
        loss_iou: dict,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.assigner = TASK_UTILS.build(assigner)
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_bbox = MODELS.build(loss_bbox)
        self.loss_iou = MODELS.build(loss_iou)

    def _match(
        self, logits: Tensor, xyxy: Tensor, gt: InstanceData, meta: dict
    ) -> tuple[Tensor, Tensor]:
        """Matched query indices and their ground-truth indices for one image."""
        preds = InstanceData(scores=logits.detach(), bboxes=xyxy.detach())
        result = self.assigner.assign(pred_instances=preds, gt_instances=gt, img_meta=meta)
        query_inds = torch.nonzero(result.gt_inds > 0, as_tuple=False).squeeze(-1)
        return query_inds, result.gt_inds[query_inds] - 1

    def forward(
        self,
        cls_logits: Tensor,
        xyxy: Tensor,
        gt_instances: Sequence[InstanceData],
        img_metas: Sequence[dict],
    ) -> dict[str, Tensor]:
        """Losses of one stage.

        Args:
            cls_logits: ``(B, N, num_classes)``.
            xyxy: ``(B, N, 4)`` predicted boxes in pixels.
            gt_instances: per image, ``bboxes`` ``(M, 4)`` xyxy pixels and ``labels`` ``(M,)``.
            img_metas: per image, with ``img_shape`` ``(h, w)``.

        Returns:
            ``loss_cls``, ``loss_bbox`` and ``loss_iou``.
        """
        batch, num_queries = cls_logits.shape[:2]
        labels = cls_logits.new_full((batch, num_queries), self.num_classes, dtype=torch.long)
        pred_boxes, target_boxes, norms = [], [], []
        for b, (instances, meta) in enumerate(zip(gt_instances, img_metas, strict=True)):
            # mmdet may hold boxes as a box type; costs and losses want a plain (M, 4) tensor
            gt = InstanceData(bboxes=get_box_tensor(instances.bboxes), labels=instances.labels)
            query_inds, gt_inds = self._match(cls_logits[b], xyxy[b], gt, meta)
            labels[b, query_inds] = gt.labels[gt_inds]
            pred_boxes.append(xyxy[b, query_inds])
            target_boxes.append(gt.bboxes[gt_inds])
            h, w = meta["img_shape"][:2]
            norms.append(xyxy.new_tensor([w, h, w, h]).expand(len(query_inds), 4))
        pred = torch.cat(pred_boxes)  # (P, 4) over the batch
        target = torch.cat(target_boxes)
        whwh = torch.cat(norms)
        # every process divides by the same mean matched count (DDP), at least 1
        avg_factor = reduce_mean(cls_logits.new_tensor(float(len(pred)))).clamp(min=1.0).item()
        losses = {
            "loss_cls": self.loss_cls(
                cls_logits.reshape(batch * num_queries, -1),
                labels.reshape(-1),
                avg_factor=avg_factor,
            )
        }
        if len(pred):
            losses["loss_bbox"] = self.loss_bbox(pred / whwh, target / whwh, avg_factor=avg_factor)
            losses["loss_iou"] = self.loss_iou(pred, target, avg_factor=avg_factor)
        else:
            # no object in the batch: keep the keys (and the graph) with a zero
            losses["loss_bbox"] = xyxy.sum() * 0
            losses["loss_iou"] = xyxy.sum() * 0
        return losses
