"""A short smoke training of the smoke detector really learns: it beats the untrained model on
the same val set by a clear margin.

Plain AdaMixer, which learns fastest at this scale (AdaMixer+LORS trains through the harness in
tests/harness/test_smoke_detector.py and in the tiny sweep), for 200 iterations at batch 8 with
the warm-up and cosine compressed to match, on 400 / 100 images of the smoke set (seed 0): 44 s
on 2 idle cores. Measured: bbox mAP_50 0.001 untrained, 0.35 trained (batch 4 for 500 iterations
gave 0.37 in 78 s; batch 8 for 150 iterations 0.22).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mmengine.config import Config

from lors.data.synthetic import SyntheticSpec, write_synthetic
from lors.engine import build_runner

REPO = Path(__file__).resolve().parents[3]
SMOKE = REPO / "configs" / "smoke" / "adamixer_smoke.py"
ITERS = 200
BATCH = 8
WARMUP = 40
MARGIN = 0.1


def _map50(metrics: dict) -> float:
    # CocoMetric returns {} when the model outputs no box at all: that scores 0
    return float(metrics.get("coco/bbox_mAP_50", 0.0))


@pytest.mark.slow
def test_short_smoke_training_beats_the_untrained_model(tmp_path: Path) -> None:
    data = tmp_path / "smoke"
    write_synthetic(data, SyntheticSpec(seed=0, num_train=400, num_val=100))
    root = str(data) + "/"
    cfg = Config.fromfile(str(SMOKE))
    cfg.merge_from_dict(
        {
            "train_cfg.max_iters": ITERS,
            "train_cfg.val_interval": ITERS,
            "param_scheduler.0.end": WARMUP,
            "param_scheduler.1.begin": WARMUP,
            "param_scheduler.1.end": ITERS,
            "train_dataloader.batch_size": BATCH,
            "train_dataloader.dataset.data_root": root,
            "val_dataloader.dataset.data_root": root,
            "test_dataloader.dataset.data_root": root,
            "val_evaluator.ann_file": root + "annotations/instances_val.json",
            "test_evaluator.ann_file": root + "annotations/instances_val.json",
            "default_hooks.checkpoint.interval": ITERS,
        }
    )
    cfg.work_dir = str(tmp_path / "work")
    runner = build_runner(cfg)
    runner.model.init_weights()  # evaluate the model as training would start it
    untrained = _map50(runner.val())
    runner.train()
    trained = runner.message_hub.get_scalar("val/coco/bbox_mAP_50").current()
    assert trained > untrained + MARGIN, (untrained, trained)
