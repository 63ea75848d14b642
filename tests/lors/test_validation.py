"""Bad arguments to the LORS layers and counts: one typed error naming argument, value and range."""

from __future__ import annotations

from typing import Any

import pytest

from lors.counting import adaptive_lors_params, static_lors_params
from lors.errors import ConfigError, LorsError
from lors.layers import AdaptiveLORS, StaticLORS, WeightSpec

SPECS = [WeightSpec("M", 2, 8, 8), WeightSpec("S", 2, 4, 6)]

STATIC_CASES = [
    # (kwargs, words the message must contain)
    (dict(rank=0), ["rank=0", "1..8"]),
    (dict(rank=-3), ["rank=-3", "1..8"]),
    (dict(rank=9), ["rank=9", "1..8", "min(d_in, d_out)"]),
    (dict(rank=2.0), ["rank=2.0", "1..8"]),
    (dict(groups=[1, 2]), ["groups=[1, 2]", "2 entries", "num_layers=3"]),
    (dict(groups=0), ["groups=0", ">= 1"]),
    (dict(groups=[1, 0, 1]), ["groups[1]=0", ">= 1"]),
    (dict(groups="3"), ["groups='3'", "list of 3"]),
    (dict(parts="all"), ["parts='all'", "both, shared, private"]),
    (dict(num_layers=0), ["num_layers=0", ">= 1"]),
    (dict(in_features=True), ["in_features=True", ">= 1"]),
]


def _static(**kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(in_features=8, out_features=12, num_layers=3, rank=2)
    args.update(kw)
    return args


@pytest.mark.parametrize(("kwargs", "words"), STATIC_CASES)
@pytest.mark.parametrize("build", [StaticLORS, static_lors_params], ids=["layer", "count"])
def test_static_bad_input(build: Any, kwargs: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        build(**_static(**kwargs))
    assert isinstance(err.value, LorsError)
    for word in words:
        assert word in str(err.value), str(err.value)


ADAPTIVE_CASES = [
    (dict(rank=0), ["rank=0", "1..4"]),
    (dict(rank=5), ["rank=5", "1..4"]),  # S has d_in = 4
    (dict(groups=[1, 1]), ["groups=[1, 1]", "num_layers=3"]),
    (dict(parts="none"), ["parts='none'", "both, shared, private"]),
    (dict(query_dim=0), ["query_dim=0", ">= 1"]),
    (dict(weights=[]), ["weights=()", "WeightSpec"]),
    (dict(weights=[WeightSpec("M", 2, 8, 8), WeightSpec("M", 2, 4, 6)]), ["unique", "'M'"]),
    (dict(weights=[WeightSpec("M", 2, 8, 8), WeightSpec("S", 3, 4, 6)]), ["[2, 3]", "same count"]),
    (dict(weights=[WeightSpec("a.b", 2, 8, 8)]), ["'a.b'", "identifier"]),
    (dict(weights=[WeightSpec("M", 2, 0, 8)]), ["WeightSpec(M).d_in=0", ">= 1"]),
]


def _adaptive(**kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(query_dim=16, weights=SPECS, num_layers=3, rank=2)
    args.update(kw)
    return args


@pytest.mark.parametrize(("kwargs", "words"), ADAPTIVE_CASES)
@pytest.mark.parametrize("build", [AdaptiveLORS, adaptive_lors_params], ids=["layer", "count"])
def test_adaptive_bad_input(build: Any, kwargs: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ConfigError) as err:
        build(**_adaptive(**kwargs))
    for word in words:
        assert word in str(err.value), str(err.value)


def test_unknown_path_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"path='fast'.*auto, materialized, fused, factorized"):
        AdaptiveLORS(**_adaptive(), path="fast")
    layer = AdaptiveLORS(**_adaptive())
    with pytest.raises(ConfigError, match="path='fast'"):
        layer.path = "fast"
    assert layer.path == "auto"


def test_boundaries_are_accepted() -> None:
    assert StaticLORS(**_static(rank=8, groups=[1, 2, 3])).args.groups == (1, 2, 3)
    assert AdaptiveLORS(**_adaptive(rank=4, groups=5)).args.groups == (5, 5, 5)
