"""Parameter counts of a built detector, by part: the ``params`` of a run record.

One function for the two places that count a built model: ``python -m lors.count`` (which builds
it from a config) and the job's record hook (which counts the model it trains). The closed form
of the same numbers, without torch, is ``lors.adamixer_counting``; tests/lors/test_count_cli.py
holds the two to each other. Torch is needed here (a built ``nn.Module``), so the planning side
never imports this module.
"""

from __future__ import annotations

from torch import nn

from lors.layers import is_shared_parameter

DETECTOR_PARTS: tuple[str, ...] = ("backbone", "neck", "rpn_head", "roi_head")
"""The top-level submodules of an mmdet two-stage detector, counted one by one."""


def _numel(module: nn.Module | None) -> int:
    return sum(p.numel() for p in module.parameters()) if module is not None else 0


def count_model_params(model: nn.Module) -> dict[str, int]:
    """Parameter counts of a built detector (not a DDP wrapper: pass its ``module``).

    Args:
        model: the detector; a part it lacks counts 0.

    Returns:
        ``backbone``, ``neck``, ``rpn_head``, ``roi_head``, ``total``, and ``roi_head_shared``
        (the LORS parameters every decoder stage uses, named ``lors_shared*``; 0 for a detector
        without LORS) with ``roi_head_private``, the rest of ``roi_head``.
    """
    counts = {part: _numel(getattr(model, part, None)) for part in DETECTOR_PARTS}
    counts["total"] = _numel(model)
    roi_head = getattr(model, "roi_head", None)
    shared = split_shared_private(roi_head)["shared"] if roi_head is not None else 0
    counts["roi_head_shared"] = shared
    counts["roi_head_private"] = counts["roi_head"] - shared
    return counts


def split_shared_private(module: nn.Module) -> dict[str, int]:
    """Count a module's parameters: ``total``, ``shared`` (the LORS parameters every stage
    uses, ``lors.layers.is_shared_parameter``) and ``private`` (the rest)."""
    shared = private = 0
    for name, param in module.named_parameters():
        if is_shared_parameter(name):
            shared += param.numel()
        else:
            private += param.numel()
    return {"total": shared + private, "shared": shared, "private": private}
