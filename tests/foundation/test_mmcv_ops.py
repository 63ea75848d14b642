"""mmcv is built with its compiled ops, and they run on the CPU."""

from __future__ import annotations

import torch


def test_nms_compiled_op_runs_on_cpu() -> None:
    from mmcv.ops import nms

    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [50.0, 50.0, 60.0, 60.0]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    dets, keep = nms(boxes, scores, iou_threshold=0.5)
    # box 1 overlaps box 0 with IoU 81/119 = 0.68 > 0.5, so it is suppressed
    assert keep.tolist() == [0, 2]
    assert torch.allclose(dets[:, 4], torch.tensor([0.9, 0.7]))


def test_roi_align_compiled_op_matches_a_constant_map() -> None:
    from mmcv.ops import RoIAlign

    feat = torch.arange(16.0).reshape(1, 1, 4, 4)
    rois = torch.tensor([[0.0, 0.0, 0.0, 4.0, 4.0]])
    out = RoIAlign(output_size=(2, 2), spatial_scale=1.0, sampling_ratio=2, aligned=True)(
        feat, rois
    )
    assert out.shape == (1, 1, 2, 2)
    # average over each 2x2 quadrant of the 4x4 ramp
    expected = torch.tensor([[[[2.5, 4.5], [10.5, 12.5]]]])
    assert torch.allclose(out, expected, atol=1e-5)
