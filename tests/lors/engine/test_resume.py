"""Resume under torch >= 2.6: train a few smoke iterations, stop, resume from the saved one."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import ClassVar

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from lors.data.synthetic import SyntheticSpec, write_synthetic
from lors.engine import build_runner, load_checkpoint_file

REPO = Path(__file__).resolve().parents[3]
SMOKE = REPO / "configs" / "smoke" / "adamixer_lors_smoke.py"


class Preempted(RuntimeError):
    """Stands for the job being killed."""


@HOOKS.register_module(force=True)
class StopBeforeIterHook(Hook):
    """Raise before training iteration ``at`` (a kill between two iterations)."""

    def __init__(self, at: int) -> None:
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter == self.at:
            raise Preempted(f"stopped before iteration {self.at}")


@HOOKS.register_module(force=True)
class RecordItersHook(Hook):
    """Remember the iteration index of every training step and the weights at the start."""

    iters: ClassVar[list[int]] = []
    first_weights: ClassVar[dict[str, torch.Tensor]] = {}

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if not RecordItersHook.iters:
            model = runner.model
            RecordItersHook.first_weights = {
                k: v.detach().clone() for k, v in model.state_dict().items()
            }
        RecordItersHook.iters.append(runner.iter)


def _cfg(data: Path, work_dir: Path, hook: dict, resume: bool) -> Config:
    cfg = Config.fromfile(str(SMOKE))
    cfg.merge_from_dict(
        {
            "train_cfg.max_iters": 4,
            "train_dataloader.batch_size": 2,
            "train_dataloader.dataset.data_root": str(data) + "/",
            "default_hooks.checkpoint.interval": 2,
            "default_hooks.logger.interval": 1,
        }
    )
    # no evaluation: this test is about the training state
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    cfg.custom_hooks = [hook]
    cfg.work_dir = str(work_dir)
    cfg.resume = resume
    return cfg


def test_stop_and_resume_continues_from_the_saved_iteration(tmp_path: Path) -> None:
    data, work = tmp_path / "data", tmp_path / "work"
    write_synthetic(data, SyntheticSpec(num_train=8, num_val=2))

    runner = build_runner(_cfg(data, work, dict(type="StopBeforeIterHook", at=3), resume=False))
    with pytest.raises(Preempted):
        runner.train()
    checkpoint = work / "iter_2.pth"
    assert checkpoint.is_file() and not (work / "iter_3.pth").exists()
    assert (work / "last_checkpoint").read_text().strip().endswith("iter_2.pth")

    # the reason for LorsRunner: torch's default weights_only load refuses mmengine checkpoints
    with pytest.raises(pickle.UnpicklingError):
        torch.load(checkpoint, map_location="cpu")
    saved = load_checkpoint_file(str(checkpoint))
    assert saved["meta"]["iter"] == 2

    RecordItersHook.iters = []
    runner = build_runner(_cfg(data, work, dict(type="RecordItersHook"), resume=True))
    runner.train()
    assert RecordItersHook.iters == [2, 3]
    assert runner.iter == 4
    for key, value in saved["state_dict"].items():
        torch.testing.assert_close(RecordItersHook.first_weights[key], value, msg=key)
    # the optimizer continued too: AdamW's step count carried over from the checkpoint
    state = runner.optim_wrapper.optimizer.state_dict()["state"]
    assert max(int(s["step"]) for s in state.values()) == 4
