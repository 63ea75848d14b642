"""The parts of a decoder stage: box parametrisation, 3-D sampling, mixing shapes, matching."""

from __future__ import annotations

import math

import pytest
import torch

from lors.models.roi_heads.boxes import (
    iof_attention_bias,
    position_embedding,
    refine_xyzr,
    xyxy_to_xyzr,
    xyzr_to_xyxy,
)
from lors.models.roi_heads.mixing import AdaptiveMixing, PlainGenerators, PlainLinears
from lors.models.roi_heads.sampling import AdaptiveSampling3D


def test_xyzr_round_trip_and_meaning() -> None:
    xyxy = torch.tensor([[10.0, 20.0, 50.0, 100.0], [0.0, 0.0, 8.0, 2.0]])
    xyzr = xyxy_to_xyzr(xyxy)
    torch.testing.assert_close(xyzr_to_xyxy(xyzr), xyxy)
    # centre (30, 60), sqrt(40 * 80) = 2^z, h / w = 2 = 2^r
    torch.testing.assert_close(xyzr[0], torch.tensor([30.0, 60.0, math.log2(3200) / 2, 1.0]))


def test_refine_moves_the_centre_in_units_of_the_box_scale() -> None:
    xyzr = torch.tensor([[30.0, 60.0, 4.0, 0.0]])  # a 16 x 16 box
    out = refine_xyzr(xyzr, torch.tensor([[0.5, -1.0, 1.0, 0.25]]))
    torch.testing.assert_close(out, torch.tensor([[38.0, 44.0, 5.0, 0.25]]))
    torch.testing.assert_close(refine_xyzr(xyzr, torch.zeros(1, 4)), xyzr)


def test_position_embedding_is_sinusoidal_per_coordinate() -> None:
    xyzr = torch.tensor([[[0.0, 0.0, 0.0, 0.0], [500.0, 0.0, 0.0, 0.0]]])
    pe = position_embedding(xyzr, 32)  # 8 features per coordinate
    assert pe.shape == (1, 2, 32)
    origin = pe[0, 0].view(4, 4, 2)  # (coordinate, frequency, sin/cos)
    assert (origin[..., 0] == 0).all() and (origin[..., 1] == 1).all()
    moved = pe[0, 1].view(4, 4, 2)
    assert moved[0, 0, 0] == pytest.approx(math.sin(0.5))  # x / 1000 at the top frequency
    torch.testing.assert_close(moved[1:], origin[1:])  # only x changed


def test_iof_bias_penalises_queries_that_do_not_overlap() -> None:
    boxes = torch.tensor([[[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 20.0, 20.0], [50, 50, 60, 60]]])
    tau = torch.tensor([1.0, 0.0])
    bias = iof_attention_bias(boxes, tau)  # (B * H, N, N)
    assert bias.shape == (2, 3, 3)
    assert bias[0, 0, 1] == pytest.approx(0.0, abs=1e-5)  # box 0 lies inside box 1: IoF 1
    assert bias[0, 1, 0] == pytest.approx(math.log(0.25), abs=1e-5)  # a quarter of box 1
    assert bias[0, 0, 2] < -15  # disjoint: log(1e-7)
    assert (bias[1] == 0).all()  # tau 0: no bias in that head


def _ramp_features(strides: tuple[int, ...], size: int, channels: int) -> list[torch.Tensor]:
    """Level features whose channel 0 holds the image x of each pixel centre, channel 1 its y."""
    feats = []
    for stride in strides:
        n = size // stride
        centres = (torch.arange(n, dtype=torch.float32) + 0.5) * stride
        feat = torch.zeros(1, channels, n, n)
        feat[0, 0::2] = centres.view(1, 1, n)  # x varies along width
        feat[0, 1::2] = centres.view(1, n, 1)  # y varies along height
        feats.append(feat)
    return feats


def test_sampling_reads_the_features_at_the_predicted_points() -> None:
    strides = (4, 8, 16, 32)
    sampler = AdaptiveSampling3D(content_dim=8, num_groups=2, in_points=4, strides=strides)
    sampler.init_weights()
    feats = _ramp_features(strides, size=128, channels=8)
    xyzr = xyxy_to_xyzr(torch.tensor([[[40.0, 50.0, 80.0, 70.0]]]))  # (B, N, 4)
    content = torch.randn(1, 1, 8)
    out = sampler(feats, content, xyzr)
    assert out.shape == (1, 1, 2, 4, 4)  # (B, N, G, Pin, C / G)
    # the offsets start at the centres of a 2 x 2 grid over the box (+-0.25 box size); as in
    # the release, dx follows the outer index of a point and dy the inner one
    corners = torch.tensor([[50.0, 55.0], [50.0, 65.0], [70.0, 55.0], [70.0, 65.0]])
    for group in range(2):
        torch.testing.assert_close(out[0, 0, group, :, 0], corners[:, 0], atol=1e-3, rtol=0)
        torch.testing.assert_close(out[0, 0, group, :, 1], corners[:, 1], atol=1e-3, rtol=0)


def test_sampling_weighs_levels_by_scale() -> None:
    strides = (4, 8)
    sampler = AdaptiveSampling3D(content_dim=2, num_groups=1, in_points=1, strides=strides)
    sampler.init_weights()
    sampler.offset_generator.bias.data.zero_()  # one point at the centre, at the box scale
    feats = [torch.full((1, 2, 16, 16), 1.0), torch.full((1, 2, 8, 8), 3.0)]
    # a box of scale z = 2 = log2(4): level 0 weighs exp(0), level 1 exp(-1/2)
    out = sampler(feats, torch.zeros(1, 1, 2), torch.tensor([[[32.0, 32.0, 2.0, 0.0]]]))
    w0, w1 = 1.0, math.exp(-0.5)
    assert out[0, 0, 0, 0, 0].item() == pytest.approx((w0 * 1 + w1 * 3) / (w0 + w1), rel=1e-5)


def test_plain_mixing_shapes() -> None:
    generator = PlainGenerators(64, num_groups=4, in_points=8, out_points=12, num_layers=2)
    out_proj = PlainLinears(4 * 12 * 16, 64, num_layers=2)
    mixing = AdaptiveMixing(generator, out_proj, num_groups=4, in_points=8, out_points=12)
    content = torch.randn(3, 5, 64)
    sampled = torch.randn(3, 5, 4, 8, 16)  # (B, N, G, Pin, Cg)
    assert mixing(content, sampled, layer=1).shape == (3, 5, 64)
    weights = generator(content.reshape(15, 64), layer=0)
    assert weights.materialize("M").shape == (15, 4, 16, 16)
    assert weights.materialize("S").shape == (15, 4, 8, 12)
