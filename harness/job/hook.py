"""``RecordHook``: the mmengine hook that keeps a run's record current while it trains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop

from harness.job.failure import check_losses
from harness.records.schema import METRIC_KEYS, PARAM_KEYS
from harness.records.store import last_checkpoint
from harness.records.writer import RecordWriter
from harness.trackers.base import Tracker
from lors.model_parts import count_model_params


def count_params(model: Any) -> dict[str, int]:
    """Parameter counts of a built model (``lors.model_parts.count_model_params``, which
    ``python -m lors.count`` prints too), in the record's ``PARAM_KEYS`` order."""
    if is_model_wrapper(model):
        model = model.module
    counts = count_model_params(model)
    return {key: counts[key] for key in PARAM_KEYS}


class RecordHook(Hook):
    """Writes the resumed iteration and parameter counts when training starts, and every
    evaluation into the record's history; mirrors them to the tracker, and notes in the record
    when the tracker is lost (the run goes on without it).

    Args:
        writer: the run's record writer (None on ranks other than 0).
        tracker: the run's tracker.
    """

    priority = "LOWEST"

    def __init__(self, writer: RecordWriter | None, tracker: Tracker) -> None:
        self.writer = writer
        self.tracker = tracker
        self.last_eval_iter: int | None = None
        self.tracker_lost = False

    def before_train(self, runner: Any) -> None:
        if self.writer is None:
            return
        self.writer.resumed_from(runner.iter)
        params = count_params(runner.model)
        self.writer.set_params(params)
        self.tracker.summary(runner, {f"params/{k}": v for k, v in params.items()})

    def after_train_iter(
        self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Any = None
    ) -> None:
        check_losses(outputs, runner.iter)  # every rank: a NaN on one stops them all
        if self.writer is None or self.tracker_lost:
            return
        lost = self.tracker.lost(runner)
        if lost:
            self.tracker_lost = True
            self.writer.tracker_lost(lost)

    def after_val_epoch(self, runner: Any, metrics: dict[str, float] | None = None) -> None:
        self.last_eval_iter = runner.iter
        if self.writer is None:
            return
        # runner._train_loop: the property would build a loop that was never used
        epoch = runner.epoch if isinstance(runner._train_loop, EpochBasedTrainLoop) else None
        ckpt = last_checkpoint(Path(runner.work_dir))
        self.writer.add_evaluation(epoch, runner.iter, metrics or {}, ckpt)

    def after_train(self, runner: Any) -> None:
        self.final_summary(runner)

    def final_summary(self, runner: Any) -> None:
        """Send the last evaluation's metrics to the tracker as the run's final metrics."""
        if self.writer is None or not self.writer.record["history"]:
            return
        last = self.writer.record["history"][-1]
        final = {f"final/{k}": last.get(k) for k in METRIC_KEYS if last.get(k) is not None}
        if final:
            self.tracker.summary(runner, final)
