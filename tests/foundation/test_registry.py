"""mmdet's registry builds a module that the project registers out of tree (custom_imports)."""

from __future__ import annotations

import sys

import torch
from mmengine.config import Config


def test_custom_imports_registers_project_modules(tmp_path) -> None:
    cfg_file = tmp_path / "neck.py"
    cfg_file.write_text(
        "custom_imports = dict(imports=['lors.models'], allow_failed_imports=False)\n"
        "neck = dict(type='ChannelMapping', in_channels=[8, 16], out_channels=32, num_groups=4)\n"
    )
    sys.modules.pop("lors.models", None)
    cfg = Config.fromfile(str(cfg_file))  # runs custom_imports
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules

    register_all_modules()
    neck = MODELS.build(cfg.neck)
    assert type(neck).__module__ == "lors.models.necks.channel_mapping"
    outs = neck([torch.randn(2, 8, 16, 16), torch.randn(2, 16, 8, 8)])
    assert [tuple(o.shape) for o in outs] == [(2, 32, 16, 16), (2, 32, 8, 8)]
    # one GroupNorm for all levels: its parameters are the only norm parameters
    norms = [m for m in neck.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert len(norms) == 1


def test_mmdet_is_not_vendored() -> None:
    import mmdet

    assert "site-packages" in mmdet.__file__, mmdet.__file__
