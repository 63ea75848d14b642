"""CLI: parameter counts of a detector config, per top-level submodule.

    python -m lors.count CONFIG [--cfg-options key=value ...] [--json]

Builds the model on the meta device where it can (no memory, no weights loaded; CPU for a
backbone that reads tensor values while it builds) and counts the parameters of
``backbone``, ``neck``, ``rpn_head`` and ``roi_head``, the ``total``, and the decoder's split into
``roi_head_shared`` (LORS weights every stage uses) and ``roi_head_private``. These are the
``params`` keys of a run record (docs/record.md). ``lors.adamixer_counting`` gives the same
``roi_head`` numbers in closed form, without torch.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lors.errors import LorsError

PARTS = ("backbone", "neck", "rpn_head", "roi_head")


def count_params(cfg: Any) -> dict[str, int]:
    """Parameter counts of the detector of an mmengine config.

    Args:
        cfg: an ``mmengine.config.Config`` (its ``custom_imports`` already applied).

    Returns:
        ``backbone``, ``neck``, ``rpn_head``, ``roi_head``, ``total``, ``roi_head_shared``,
        ``roi_head_private`` (absent parts count 0).
    """
    import torch
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    from lors.models.roi_heads.mixing_factory import split_shared_private

    init_default_scope(cfg.get("default_scope", "mmdet"))
    try:
        with torch.device("meta"):
            model = MODELS.build(cfg.model)
    except RuntimeError:
        # some backbones read tensor values while building (Swin's drop-path schedule)
        model = MODELS.build(cfg.model)
    counts = {}
    for part in PARTS:
        module = getattr(model, part, None)
        counts[part] = sum(p.numel() for p in module.parameters()) if module is not None else 0
    counts["total"] = sum(p.numel() for p in model.parameters())
    roi_head = getattr(model, "roi_head", None)
    split = split_shared_private(roi_head) if roi_head is not None else {"shared": 0}
    counts["roi_head_shared"] = split["shared"]
    counts["roi_head_private"] = counts["roi_head"] - split["shared"]
    return counts


def _table(counts: dict[str, int]) -> str:
    width = max(len(k) for k in counts)
    return "\n".join(f"{k:<{width}}  {v:>13,}" for k, v in counts.items())


def main(argv: list[str] | None = None) -> int:
    """Print the counts (a table, or one JSON object with ``--json``); exit 2 on bad input."""
    from mmengine.config import Config, DictAction

    parser = argparse.ArgumentParser(prog="python -m lors.count", description=__doc__)
    parser.add_argument("config", type=Path)
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    parser.add_argument("--json", action="store_true", help="one JSON object on one line")
    args = parser.parse_args(argv)
    if not args.config.is_file():
        print(f"error: config {args.config} not found", file=sys.stderr)
        return 2
    try:
        cfg = Config.fromfile(str(args.config))
        cfg.merge_from_dict(args.cfg_options)
        counts = count_params(cfg)
    except (LorsError, KeyError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(counts) if args.json else _table(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
