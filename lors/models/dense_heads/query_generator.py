"""AdaMixer's initial queries: learned contents and boxes that cover the whole image.

It sits in mmdet's ``rpn_head`` slot of a two-stage detector (``SparseRCNN``), produces no loss
and sets the number of queries: ``model.rpn_head.num_queries`` of the knob contract.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from torch import Tensor, nn

from lors.errors import ConfigError


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

    def _queries(self, x: tuple[Tensor, ...], batch_data_samples: SampleList) -> list[InstanceData]:
        """Per image: ``xyzr`` and ``bboxes`` of the whole image, and the contents."""
        device = x[0].device
        content = F.layer_norm(self.content.weight, (self.content_dim,))  # (N, C), no affine
        results = []
        for sample in batch_data_samples:
            h, w = sample.metainfo["img_shape"][:2]
            xyzr = torch.tensor(
                [w / 2, h / 2, 0.5 * math.log2(w * h), math.log2(h / w)], device=device
            ).expand(self.num_queries, 4)  # (N, 4)
            bboxes = torch.tensor([0.0, 0.0, w, h], device=device).expand(self.num_queries, 4)
            results.append(InstanceData(xyzr=xyzr, bboxes=bboxes, features=content))
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
