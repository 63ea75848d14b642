"""The AdaMixer decoder (mmdet ``roi_head``): a stack of stages built from the knob contract.

``num_stages``, ``num_groups``, ``in_points``, ``out_points`` and ``lors_cfg`` are top-level
arguments and every stage is derived from them, so one ``--cfg-options`` override changes the
whole stack. The mixing block (generators of ``M`` and ``S``, output projection) belongs to the
decoder: with ``lors_cfg`` it is one ``AdaptiveLORS`` and one ``StaticLORS`` shared by all stages,
without it one plain generator and one plain projection per stage.

Parameters of this module: every stage (attention, sampling, FFN, norms, classification and box
heads) plus the mixing block. The initial query contents live in the query generator
(``rpn_head``), not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmengine.model import BaseModule, ModuleList
from mmengine.structures import InstanceData
from torch import Tensor

from lors.adamixer_knobs import DecoderKnobs, parse_lors_cfg, shape_problems
from lors.errors import ConfigError
from lors.model_parts import split_shared_private
from lors.models.roi_heads.boxes import xyxy_to_xyzr, xyzr_to_xyxy
from lors.models.roi_heads.mixing_factory import build_mixing
from lors.models.roi_heads.set_criterion import SetCriterion
from lors.models.roi_heads.stage import AdaMixerStage

DEFAULT_LOSSES: dict[str, dict[str, Any]] = {
    "loss_cls": dict(type="FocalLoss", use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=2.0),
    "loss_bbox": dict(type="L1Loss", loss_weight=5.0),
    "loss_iou": dict(type="GIoULoss", loss_weight=2.0),
}


@MODELS.register_module()
class AdaMixerDecoder(BaseModule):
    """AdaMixer's decoder, optionally with LORS on its mixing block.

    Args:
        num_stages: decoder depth ``N``.
        num_groups: sampling groups ``G``.
        in_points: sampled points per group ``P_in``.
        out_points: spatial-mixing output points ``P_out``.
        lors_cfg: ``None`` for plain AdaMixer, else a dict (``lors.adamixer_knobs.LORS_KEYS``).
        num_classes: object classes.
        content_dim: query content size, equal to the neck's channel count.
        num_heads: self-attention heads.
        feedforward_channels: FFN hidden size.
        strides: feature strides, finest first.
        stage_loss_weights: weight of each stage's losses (default 1 for every stage).
        loss_cls: classification loss config (default focal, weight 2).
        loss_bbox: normalised L1 box loss config (default weight 5).
        loss_iou: GIoU loss config (default weight 2).
        train_cfg: ``dict(assigner=...)`` (the Hungarian assigner and its costs); ``None`` builds
            a decoder that can only predict.
        test_cfg: ``dict(max_per_img=None)``: boxes per image at test time; ``None`` (default)
            follows the number of queries.
        init_cfg: mmengine init config.
    """

    def __init__(
        self,
        num_stages: int = 6,
        num_groups: int = 4,
        in_points: int = 32,
        out_points: int = 128,
        lors_cfg: dict | None = None,
        num_classes: int = 80,
        content_dim: int = 256,
        num_heads: int = 8,
        feedforward_channels: int = 2048,
        strides: Sequence[int] = (4, 8, 16, 32),
        stage_loss_weights: Sequence[float] | None = None,
        loss_cls: dict | None = None,
        loss_bbox: dict | None = None,
        loss_iou: dict | None = None,
        train_cfg: dict | None = None,
        test_cfg: dict | None = None,
        init_cfg: dict | list[dict] | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.lors_cfg = parse_lors_cfg(lors_cfg, num_stages)
        problems = shape_problems(
            DecoderKnobs(
                num_stages=num_stages,
                num_groups=num_groups,
                in_points=in_points,
                out_points=out_points,
                num_classes=num_classes,
                content_dim=content_dim,
                feedforward_channels=feedforward_channels,
                num_heads=num_heads,
                lors_cfg=self.lors_cfg,
            )
        )
        if problems:
            raise ConfigError("model.roi_head: " + "; ".join(problems))
        self.num_stages = num_stages
        self.num_classes = num_classes
        self.stage_loss_weights = _stage_weights(stage_loss_weights, num_stages)
        self.test_cfg = dict(test_cfg or {})
        # mmengine's ModuleList: a BaseModule, so model.init_weights() reaches every stage
        self.stages = ModuleList(
            AdaMixerStage(
                content_dim=content_dim,
                num_heads=num_heads,
                num_groups=num_groups,
                in_points=in_points,
                feedforward_channels=feedforward_channels,
                num_classes=num_classes,
                strides=strides,
            )
            for _ in range(num_stages)
        )
        self.mixing = build_mixing(
            content_dim, num_groups, in_points, out_points, num_stages, self.lors_cfg
        )
        self.criterion: SetCriterion | None = None
        if train_cfg is not None:
            self.criterion = SetCriterion(
                num_classes,
                assigner=train_cfg["assigner"],
                loss_cls=loss_cls or DEFAULT_LOSSES["loss_cls"],
                loss_bbox=loss_bbox or DEFAULT_LOSSES["loss_bbox"],
                loss_iou=loss_iou or DEFAULT_LOSSES["loss_iou"],
            )

    @property
    def with_bbox(self) -> bool:
        """mmdet's detectors ask their roi_head whether it predicts boxes: it does."""
        return True

    def parameter_split(self) -> dict[str, int]:
        """Parameter counts of this decoder: ``total``, ``shared`` (LORS weights every stage
        uses) and ``private`` (everything owned by one stage)."""
        return split_shared_private(self)

    def _run_stages(
        self, feats: Sequence[Tensor], rpn_results_list: list[InstanceData]
    ) -> list[tuple[Tensor, Tensor]]:
        """Class logits and xyzr boxes after each stage (boxes detached between stages)."""
        xyzr = torch.stack([_initial_xyzr(r) for r in rpn_results_list])  # (B, N, 4)
        content = torch.stack([r.features for r in rpn_results_list])  # (B, N, C)
        outputs = []
        for layer, stage in enumerate(self.stages):
            cls_logits, xyzr, content = stage(feats, xyzr, content, self.mixing, layer)
            outputs.append((cls_logits, xyzr))
            xyzr = xyzr.detach()
        return outputs

    def forward(
        self,
        x: Sequence[Tensor],
        rpn_results_list: list[InstanceData],
        batch_data_samples: SampleList,
    ) -> tuple[Tensor, ...]:
        """Raw outputs (the detector's ``tensor`` mode): per stage logits and xyxy boxes."""
        outputs = self._run_stages(x, rpn_results_list)
        return tuple(t for logits, xyzr in outputs for t in (logits, xyzr_to_xyxy(xyzr)))

    def loss(
        self,
        x: Sequence[Tensor],
        rpn_results_list: list[InstanceData],
        batch_data_samples: SampleList,
    ) -> dict[str, Tensor]:
        """Losses of every stage, keyed ``s{stage}.loss_cls`` etc."""
        if self.criterion is None:
            raise ConfigError("AdaMixerDecoder.loss needs train_cfg=dict(assigner=...); got None")
        gts = [sample.gt_instances for sample in batch_data_samples]
        metas = [sample.metainfo for sample in batch_data_samples]
        losses: dict[str, Tensor] = {}
        outputs = self._run_stages(x, rpn_results_list)
        for layer, (cls_logits, xyzr) in enumerate(outputs):
            stage_losses = self.criterion(cls_logits, xyzr_to_xyxy(xyzr), gts, metas)
            weight = self.stage_loss_weights[layer]
            for name, value in stage_losses.items():
                losses[f"s{layer}.{name}"] = value * weight
        return losses

    def predict(
        self,
        x: Sequence[Tensor],
        rpn_results_list: list[InstanceData],
        batch_data_samples: SampleList,
        rescale: bool = False,
    ) -> list[InstanceData]:
        """Top-k (query, class) pairs of the last stage by sigmoid score, without NMS.

        ``k`` is ``test_cfg.max_per_img``, or the number of queries when it is not set.
        """
        cls_logits, xyzr = self._run_stages(x, rpn_results_list)[-1]
        boxes = xyzr_to_xyxy(xyzr)  # (B, N, 4)
        results = []
        for b, sample in enumerate(batch_data_samples):
            meta = sample.metainfo
            scores = cls_logits[b].sigmoid().flatten()  # (N * num_classes,)
            k = min(self.test_cfg.get("max_per_img") or cls_logits.shape[1], scores.numel())
            top_scores, top_inds = scores.topk(k)
            query_inds = torch.div(top_inds, self.num_classes, rounding_mode="floor")
            bboxes = boxes[b, query_inds]
            h, w = meta["img_shape"][:2]
            bboxes[:, 0::2] = bboxes[:, 0::2].clamp(0, w)
            bboxes[:, 1::2] = bboxes[:, 1::2].clamp(0, h)
            if rescale and "scale_factor" in meta:  # absent when the pipeline never resized
                bboxes = bboxes / bboxes.new_tensor(meta["scale_factor"]).repeat(2)
            results.append(
                InstanceData(bboxes=bboxes, scores=top_scores, labels=top_inds % self.num_classes)
            )
        return results


def _initial_xyzr(result: InstanceData) -> Tensor:
    if "xyzr" in result:
        return result.xyzr
    return xyxy_to_xyzr(result.bboxes)


def _stage_weights(weights: Sequence[float] | None, num_stages: int) -> list[float]:
    if weights is None:
        return [1.0] * num_stages
    if len(weights) != num_stages:
        raise ConfigError(
            f"model.roi_head.stage_loss_weights={list(weights)} has {len(weights)} entries; "
            f"expected {num_stages} (model.roi_head.num_stages), or None for all 1"
        )
    return [float(w) for w in weights]
