"""Tiny classification workload registered in mmengine's registries (test asset)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, METRICS, MODELS
from torch import nn
from torch.utils.data import Dataset


@DATASETS.register_module()
class TinyPoints(Dataset):
    """Points in 2-D labelled by which side of a fixed line they fall on."""

    def __init__(self, num_samples: int = 64, seed: int = 0) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.x = torch.randn(num_samples, 2, generator=gen)  # (N, 2)
        self.y = (self.x[:, 0] + 0.5 * self.x[:, 1] > 0).long()  # (N,)
        self.metainfo = {"classes": ("left", "right")}

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"inputs": self.x[i], "labels": self.y[i]}


@MODELS.register_module()
class TinyClassifier(BaseModel):
    """A linear classifier; ``step_delay_s`` slows each step so a test can kill it mid-run.

    ``ballast_tensors`` small buffers make a checkpoint take seconds to write, as a large
    model's does (torch.save handles each tensor in Python, where a signal lands);
    ``save_marker``, when set, is a file touched as each checkpoint's state is gathered, just
    before it is written, so a test can send a signal into the save.
    """

    def __init__(
        self,
        hidden: int = 8,
        step_delay_s: float = 0.0,
        ballast_tensors: int = 0,
        save_marker: str = "",
    ) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 2))
        self.step_delay_s = step_delay_s
        for i in range(ballast_tensors):
            self.register_buffer(f"ballast_{i}", torch.zeros(64))
        if save_marker:
            self._register_state_dict_hook(lambda *_: Path(save_marker).touch())

    def forward(self, inputs: torch.Tensor, labels: torch.Tensor, mode: str = "tensor") -> Any:
        logits = self.net(inputs)  # (B, 2)
        if mode == "loss":
            if self.step_delay_s:
                time.sleep(self.step_delay_s)
            return {"loss": nn.functional.cross_entropy(logits, labels)}
        if mode == "predict":
            return list(zip(logits.argmax(1).tolist(), labels.tolist(), strict=True))
        return logits


@METRICS.register_module()
class TinyAccuracy(BaseMetric):
    """Fraction of correct predictions, reported as ``tiny/accuracy``."""

    default_prefix = "tiny"

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        self.results.extend(int(p == t) for p, t in data_samples)

    def compute_metrics(self, results: list[int]) -> dict[str, float]:
        return {"accuracy": sum(results) / max(len(results), 1)}
