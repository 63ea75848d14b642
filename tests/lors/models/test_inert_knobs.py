"""The knobs ``inert_lors_keys`` calls inert build the same model: the same parameters, the same
initial values from the same seed (so a search may give such configs one run)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from lors.adamixer_knobs import LORS_KEY, inert_lors_keys, parse_lors_cfg
from tests.lors.models.conftest import SMOKE_LORS

# (base lors_cfg changes, the inert knobs' two values each)
RANKS_AND_K = {"adaptive_rank": (4, 16), "adaptive_groups": (1, 3)}
CASES = [
    ({"parts": "shared"}, {**RANKS_AND_K, "static_rank": (2, 8)}),
    ({"adaptive": False}, RANKS_AND_K),
    ({"static": False}, {"static_rank": (2, 8)}),
]


@pytest.mark.parametrize(("fixed", "varied"), CASES, ids=[str(c[0]) for c in CASES])
def test_configs_differing_only_in_inert_knobs_build_the_same_model(
    fixed: dict, varied: dict, build_detector: Callable
) -> None:
    cfg = parse_lors_cfg(fixed, 3)
    assert cfg is not None and set(varied) <= inert_lors_keys(cfg)
    models = []
    for i in range(2):
        options = {f"{LORS_KEY}.{k}": v for k, v in fixed.items()}
        options |= {f"{LORS_KEY}.{k}": values[i] for k, values in varied.items()}
        models.append(build_detector(SMOKE_LORS, options).state_dict())
    a, b = models
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_a_knob_that_is_not_inert_changes_the_model(build_detector: Callable) -> None:
    """The control: with both parts, the static rank is live and changes the parameters."""
    both = parse_lors_cfg({"parts": "both"}, 3)
    assert both is not None and "static_rank" not in inert_lors_keys(both)
    shapes = []
    for rank in (2, 8):
        model = build_detector(SMOKE_LORS, {f"{LORS_KEY}.static_rank": rank})
        shapes.append({k: v.shape for k, v in model.state_dict().items()})
    assert shapes[0] != shapes[1]


def test_inert_keys_table() -> None:
    def inert(**raw: object) -> set[str]:
        cfg = parse_lors_cfg(raw, 6)
        assert cfg is not None
        return set(inert_lors_keys(cfg))

    assert inert() == set() and inert(parts="private") == set()
    assert inert(parts="shared") == {"adaptive_rank", "adaptive_groups", "static_rank"}
    assert inert(adaptive=False) == {"adaptive_rank", "adaptive_groups"}
    assert inert(static=False) == {"static_rank"}
    assert inert(adaptive=False, static=False) == {
        "adaptive_rank", "adaptive_groups", "static_rank", "parts"
    }  # fmt: skip
