"""A sampled config's decoder parameters, known before training, against the constraints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.search.space import overrides
from harness.spec.config import apply_overrides
from harness.spec.search_model import ANALYTIC, SearchSpec
from lors.errors import LorsError


def decoder_budget(search: SearchSpec, cfg: Mapping[str, Any]) -> dict[str, float]:
    """The analytic parameter counts a constraint can name (``params.roi_head`` ...).

    Raises:
        LorsError: the config breaks the knob contract (the message says which knob).
    """
    from lors.adamixer_counting import decoder_params_from_config
    from lors.adamixer_knobs import checked_knobs

    checked_knobs(cfg)
    counts = decoder_params_from_config(cfg)
    return {key: float(counts[part]) for key, part in ANALYTIC.items() if part in counts}


def infeasible(
    search: SearchSpec, base: Mapping[str, Any], params: Mapping[str, Any]
) -> str | None:
    """Why a trial's config cannot run (a broken constraint, a knob the contract refuses), or
    None when it can."""
    cfg = apply_overrides(base, overrides(search, params))
    if not isinstance((cfg.get("model") or {}).get("roi_head"), Mapping):
        return None  # not a detector with a decoder: the knob contract does not apply
    try:
        budget = decoder_budget(search, cfg)
    except LorsError as exc:
        return str(exc)
    for c in search.constraints:
        value = budget.get(c.key)
        if value is not None and not c.holds(value):
            return f"{c.key} = {value:,.0f} breaks {c.text}"
    return None
