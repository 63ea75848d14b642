"""The model a config builds, on the meta device (no memory, no weights), and the sizes of its
decoder that the conversion needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from lors.convert.errors import ConvertError
from lors.convert.permute import Dims
from lors.layers import AdaptiveLORS, StaticLORS

#: the config a release's R50 1x checkpoint converts with, when none is given
DEFAULT_CONFIGS: dict[str, str] = {
    "adamixer-release": "configs/adamixer/adamixer_r50_1x_coco.py",
    "lors-release": "configs/adamixer_lors/adamixer_lors_r50_1x_coco.py",
}


def load_config(path: Path, options: dict[str, Any] | None = None) -> Any:
    """The mmengine config at ``path`` with ``options`` merged and its custom imports done."""
    from mmengine.config import Config
    from mmengine.utils import import_modules_from_strings

    if not path.is_file():
        raise ConvertError(f"config {path} not found: pass --config with an existing file")
    cfg = Config.fromfile(str(path))
    cfg.merge_from_dict(options or {})
    if cfg.get("custom_imports"):
        import_modules_from_strings(**cfg.custom_imports)
    return cfg


def build_meta_model(cfg: Any) -> nn.Module:
    """The detector of ``cfg``, on the meta device where it can be (else on the CPU)."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    init_default_scope(cfg.get("default_scope", "mmdet"))
    try:
        with torch.device("meta"):
            return MODELS.build(cfg.model)
    except RuntimeError:  # a backbone that reads tensor values while it builds
        return MODELS.build(cfg.model)


def decoder_dims(model: nn.Module, release: str, config: Path) -> Dims:
    """The decoder sizes of ``model``, checked against what ``release`` can hold.

    Raises:
        ConvertError: the config's decoder is not the kind of model the release has (plain
            AdaMixer for ``adamixer-release``; LORS_A and LORS_T with ``parts="both"`` for
            ``lors-release``).
    """
    roi_head: Any = getattr(model, "roi_head", None)
    if roi_head is None or not hasattr(roi_head, "mixing"):
        raise ConvertError(f"config {config} does not build an AdaMixer decoder (model.roi_head)")
    sampling = roi_head.stages[0].sampling
    mixing = roi_head.mixing
    groups = sampling.num_groups
    group_channels = roi_head.stages[0].content_dim // groups
    generator, out_proj = mixing.generator, mixing.out_proj
    is_lors = isinstance(generator, AdaptiveLORS) and isinstance(out_proj, StaticLORS)
    if release == "adamixer-release":
        if isinstance(generator, AdaptiveLORS) or isinstance(out_proj, StaticLORS):
            raise ConvertError(
                f"config {config} builds AdaMixer+LORS but the checkpoint is plain AdaMixer: "
                "use --config configs/adamixer/adamixer_r50_1x_coco.py (or one with lors_cfg=None)"
            )
        return Dims(groups, group_channels, sampling.in_points, mixing.out_points)
    if not is_lors or generator.args.parts != "both" or out_proj.args.parts != "both":
        raise ConvertError(
            f"config {config} {_what(mixing)}, not the release's AdaMixer+LORS (LORS_A and "
            "LORS_T, parts=both): use --config configs/adamixer_lors/adamixer_lors_r50_1x_coco.py"
        )
    args = generator.args
    return Dims(
        groups, group_channels, sampling.in_points, mixing.out_points, args.rank, args.groups
    )


def _what(mixing: Any) -> str:
    if not isinstance(mixing.generator, AdaptiveLORS) and not isinstance(
        mixing.out_proj, StaticLORS
    ):
        return "builds plain AdaMixer"
    parts = (type(mixing.generator).__name__, type(mixing.out_proj).__name__)
    return "builds {} + {}".format(*parts)
