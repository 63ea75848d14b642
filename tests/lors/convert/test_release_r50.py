"""The converter on the releases' R50 1x layouts (random values, the release's names and shapes):
its expectations are the documented layout, converted weights load strictly, the conversion is a
bijection, and the project's mixing on converted weights computes what the release's does."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor

from lors.convert.mapping import Plan, from_release, make_plan, problems, to_release
from lors.convert.model import DEFAULT_CONFIGS, decoder_dims, load_config
from lors.convert.permute import KINDS, Dims
from tests.lors.convert.release_layout import (
    C,
    adamixer_mixing,
    adamixer_shapes,
    lors_mixing,
    lors_shapes,
    random_state,
)

REPO = Path(__file__).resolve().parents[3]
SHAPES = {"adamixer-release": adamixer_shapes, "lors-release": lors_shapes}
REFERENCE = {"adamixer-release": adamixer_mixing, "lors-release": lors_mixing}
# fp32: the two compute the same sums in another order (up to 32,768 terms before a LayerNorm)
RTOL = ATOL = 1e-4


@dataclass(frozen=True)
class Case:
    release: str
    model: Any  # the built detector
    plan: Plan
    release_state: dict[str, Tensor]

    def load(self, state: dict[str, Tensor] | None = None) -> None:
        ours = from_release(self.plan, self.release_state) if state is None else state
        self.model.load_state_dict(ours, strict=True)


@functools.cache  # the naive-layout tests ask for the same fixtures by parameter again
def _build(release: str) -> Case:
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    init_default_scope("mmdet")
    path = REPO / DEFAULT_CONFIGS[release]
    cfg = load_config(path)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    backbone = {k: tuple(v.shape) for k, v in model.backbone.state_dict().items()}
    release_state = random_state(SHAPES[release](backbone))
    dims = decoder_dims(model, release, path)
    plan = make_plan(release, {k: tuple(v.shape) for k, v in model.state_dict().items()}, dims)
    return Case(release, model, plan, release_state)


@pytest.fixture(scope="module", autouse=True)
def _free_models() -> Iterator[None]:
    yield
    _build.cache_clear()  # the two R50 models hold about 1.5 GB


@pytest.fixture(scope="module", params=["adamixer-release", "lors-release"])
def case(request: pytest.FixtureRequest) -> Case:
    return _build(request.param)


def test_plan_expects_exactly_the_documented_release_layout(case: Case) -> None:
    expected = {e.release: e.release_shape for e in case.plan.entries}
    documented = {k: tuple(v.shape) for k, v in case.release_state.items()}
    assert expected == documented
    assert problems(case.plan, case.release_state) == []


def test_converted_state_loads_strictly(case: Case) -> None:
    ours = from_release(case.plan, case.release_state)
    result = case.model.load_state_dict(ours, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    stage = case.model.roi_head.stages[3]
    assert torch.equal(
        stage.fc_cls.weight, case.release_state["roi_head.bbox_head.3.fc_cls.weight"]
    )


def test_round_trips_are_the_identity(case: Case) -> None:
    ours = case.model.state_dict()
    back = from_release(case.plan, to_release(case.plan, ours))
    assert back.keys() == ours.keys()
    assert all(torch.equal(back[k], ours[k]) for k in ours)
    again = to_release(case.plan, from_release(case.plan, case.release_state))
    assert all(torch.equal(again[k], v) for k, v in case.release_state.items())


def _dims(case: Case) -> Dims:
    return case.plan.dims


def _ours_mixing(case: Case, i: int, q: Tensor, x: Tensor) -> Tensor:
    roi_head = case.model.roi_head
    content, sampled = q[None], x[None]  # one image of n queries
    update = roi_head.mixing(content, sampled, i)
    return roi_head.stages[i].mixing_norm(content + update)[0]


def _inputs(d: Dims, seed: int) -> tuple[Tensor, Tensor]:
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(5, C, generator=gen)
    x = torch.randn(5, d.groups, d.in_points, d.group_channels, generator=gen)
    return q, x


@torch.no_grad()
def test_mixing_on_converted_weights_equals_the_release_s(case: Case) -> None:
    case.load()
    for i in range(6):
        q, x = _inputs(_dims(case), seed=i)
        expected = REFERENCE[case.release](case.release_state, i, q, x)
        torch.testing.assert_close(_ours_mixing(case, i, q, x), expected, rtol=RTOL, atol=ATOL)


def _naive(kind: str):
    """Each layout change replaced by a plain reshape to our shape: what renaming alone does."""
    shapes = {
        "left_M": lambda t, d, i: t.reshape(d.groups, d.group_channels, d.pairs[i], d.rank),
        "left_S": lambda t, d, i: t.reshape(d.groups, d.in_points, d.pairs[i], d.rank),
        "right_S": lambda t, d, i: t.reshape(d.groups, d.pairs[i], d.rank, d.out_points),
        "static_A": lambda t, d, i: t.unsqueeze(0),
    }
    return shapes.get(kind, lambda t, d, i: t)


NAIVE_CASES = [
    ("adamixer-release", "generator"),
    ("adamixer-release", "columns"),
    ("lors-release", "generator"),
    ("lors-release", "columns"),
    ("lors-release", "cores"),
    ("lors-release", "left_M"),
    ("lors-release", "left_S"),
    ("lors-release", "right_S"),
    ("lors-release", "static_A"),
]


@torch.no_grad()
@pytest.mark.parametrize(("case", "kind"), NAIVE_CASES, indirect=["case"])
def test_reference_tells_a_wrong_layout_apart(
    case: Case, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(KINDS, kind, (_naive(kind), KINDS[kind][1]))
    case.load()
    i = 4  # K = 3 in the LORS release: a pair order that matters
    q, x = _inputs(_dims(case), seed=i)
    expected = REFERENCE[case.release](case.release_state, i, q, x)
    assert not torch.allclose(_ours_mixing(case, i, q, x), expected, rtol=RTOL, atol=ATOL)
