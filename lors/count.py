"""CLI: parameter counts of a detector config, per top-level submodule.

    python -m lors.count CONFIG [--cfg-options key=value ...] [--json]

Builds the model on the meta device where it can (no memory, no weights loaded; CPU for a
backbone that reads tensor values while it builds) and counts it with
``lors.model_parts.count_model_params``: ``backbone``, ``neck``, ``rpn_head`` and ``roi_head``,
the ``total``, and the decoder's split into ``roi_head_shared`` (LORS weights every stage uses)
and ``roi_head_private``. These are the
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


def count_params(cfg: Any) -> dict[str, int]:
    """Parameter counts of the detector of an mmengine config.

    Args:
        cfg: an ``mmengine.config.Config`` (its ``custom_imports`` already applied).

    Returns:
        ``lors.model_parts.count_model_params`` of the built detector.
    """
    import torch
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    from lors.model_parts import count_model_params

    init_default_scope(cfg.get("default_scope", "mmdet"))
    try:
        with torch.device("meta"):
            model = MODELS.build(cfg.model)
    except RuntimeError:
        # some backbones read tensor values while building (Swin's drop-path schedule)
        model = MODELS.build(cfg.model)
    return count_model_params(model)


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
