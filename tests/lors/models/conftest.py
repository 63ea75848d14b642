"""Building the project's detectors from its configs, on CPU and without pretrained weights."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = Path(__file__).resolve().parents[3]
SMOKE = REPO / "configs" / "smoke" / "adamixer_smoke.py"
SMOKE_LORS = REPO / "configs" / "smoke" / "adamixer_lors_smoke.py"


def load_config(path: Path, options: dict | None = None) -> Config:
    """The config with ``--cfg-options``-style overrides, pretrained backbone loading off."""
    cfg = Config.fromfile(str(path))  # runs custom_imports: registers lors.models
    cfg.merge_from_dict(options or {})
    cfg.model.backbone.init_cfg = None  # no machine here reaches a model hub
    return cfg


@pytest.fixture
def build_detector() -> Callable[..., torch.nn.Module]:
    """``build_detector(path, options, device)``: the detector of a config; on ``cpu`` with its
    weights initialised, on ``meta`` (no memory; CPU where a backbone cannot) uninitialised."""
    from mmdet.registry import MODELS

    def build(path: Path, options: dict | None = None, device: str = "cpu") -> torch.nn.Module:
        init_default_scope("mmdet")
        cfg = load_config(path, options)
        torch.manual_seed(0)
        if device == "meta":
            try:
                with torch.device("meta"):
                    return MODELS.build(cfg.model)
            except RuntimeError:  # Swin reads tensor values while it builds: not on meta
                return MODELS.build(cfg.model)
        model = MODELS.build(cfg.model)
        model.init_weights()
        return model

    return build
