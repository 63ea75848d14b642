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


def effective_params(
    search: SearchSpec, base: Mapping[str, Any], params: Mapping[str, Any]
) -> dict[str, Any]:
    """The trial's parameters less those that change nothing in its model (a rank of a LORS part
    the trial switched off: ``lors.adamixer_knobs.inert_lors_keys``). The label and the overrides
    are made from these, so trials that sample the same model share one run and train it once;
    the study keeps what it sampled. A config the knob contract refuses keeps every parameter
    (:func:`infeasible` says why it cannot run)."""
    from lors.adamixer_knobs import LORS_KEY, inert_lors_keys, knobs_from_config

    cfg = apply_overrides(base, overrides(search, params))
    if not isinstance((cfg.get("model") or {}).get("roi_head"), Mapping):
        return dict(params)
    try:
        lors = knobs_from_config(cfg).lors_cfg
    except LorsError:
        return dict(params)
    if lors is None:
        return dict(params)
    inert = {f"{LORS_KEY}.{key}" for key in inert_lors_keys(lors)}
    return {p.name: params[p.name] for p in search.space if p.key not in inert}


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
