"""AdaMixer's initial queries: learned contents and boxes that cover the whole image.

It sits in mmdet's ``rpn_head`` slot of a two-stage detector (``SparseRCNN``), produces no loss
and sets the number of queries: ``model.rpn_head.num_queries`` of the knob contract.

The boxes are held as the AdaMixer release holds them: ``init_proposal_bboxes``, an
``nn.Embedding(num_queries, 4)`` of normalised ``(cx, cy, w, h)`` set to the whole image
``(0.5, 0.5, 1, 1)``. They never learn (no gradient: ``requires_grad`` is False), but they are
parameters of the model: the parameter total and a converted release checkpoint match one to one.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from torch import Tensor, nn

from lors.errors import ConfigError
from lors.models.roi_heads.boxes import xyxy_to_xyzr


@MODELS.register_module()
class AdaMixerQueryGenerator(BaseModule):
    """``num_queries`` learned contents (normalised at use) and whole-image boxes.

    Args:
        num_queries: queries per image (also the number of boxes predicted per image).
        content_dim: query content size.
        init_cfg: mmengine init config.
        **kwargs: ``train_cfg``, ``test_cfg`` and ``num_classes``, which mmdet's two-stage
            detector hands to every ``rpn_head``; unused.
    """

    def __init__(
        self,
        num_queries: int = 100,
        content_dim: int = 256,
        init_cfg: dict | list[dict] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_queries < 1:
            raise ConfigError(f"model.rpn_head.num_queries={num_queries} must be >= 1")
        self.num_queries = num_queries
        self.content_dim = content_dim
        self.content = nn.Embedding(num_queries, content_dim)
        self.init_proposal_bboxes = nn.Embedding(num_queries, 4)
        # read detached, so it never gets a gradient: say so, or DDP waits for one
        self.init_proposal_bboxes.weight.requires_grad_(False)

    @torch.no_grad()
    def init_weights(self) -> None:
        """Every box the whole image: normalised ``(cx, cy, w, h) = (0.5, 0.5, 1, 1)``."""
        super().init_weights()
        nn.init.constant_(self.init_proposal_bboxes.weight[:, :2], 0.5)
        nn.init.constant_(self.init_proposal_bboxes.weight[:, 2:], 1.0)

    def _queries(self, x: tuple[Tensor, ...], batch_data_samples: SampleList) -> list[InstanceData]:
        """Per image: ``xyzr`` and ``bboxes`` (pixels) of the initial boxes, and the contents."""
        content = F.layer_norm(self.content.weight, (self.content_dim,))  # (N, C), no affine
        cxcywh = self.init_proposal_bboxes.weight.detach()  # (N, 4), normalised; never learns
        results = []
        for sample in batch_data_samples:
            h, w = sample.metainfo["img_shape"][:2]
            size = cxcywh.new_tensor([w, h])
            centre, wh = cxcywh[:, :2] * size, cxcywh[:, 2:] * size  # (N, 2) each, pixels
            bboxes = torch.cat([centre - 0.5 * wh, centre + 0.5 * wh], dim=-1)  # (N, 4) xyxy
            results.append(InstanceData(xyzr=xyxy_to_xyzr(bboxes), bboxes=bboxes, features=content))
        return results

    def predict(
        self, x: tuple[Tensor, ...], batch_data_samples: SampleList, **kwargs: Any
    ) -> list[InstanceData]:
        """The initial queries of every image (``rescale`` and other mmdet kwargs ignored)."""
        return self._queries(x, batch_data_samples)

    def loss_and_predict(
        self, x: tuple[Tensor, ...], batch_data_samples: SampleList, **kwargs: Any
    ) -> tuple[dict, list[InstanceData]]:
        """No loss of its own: its contents learn through the decoder's losses."""
        return {}, self._queries(x, batch_data_samples)
