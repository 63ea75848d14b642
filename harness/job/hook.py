"""``RecordHook``: the mmengine hook that keeps a run's record current while it trains."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop

from harness.records.schema import METRIC_KEYS
from harness.records.writer import RecordWriter
from harness.trackers.base import Tracker

logger = logging.getLogger(__name__)
PARTS = ("backbone", "neck", "rpn_head", "roi_head")


def count_params(model: Any) -> dict[str, int]:
    """Parameter counts of a built model: total, per detector part, and the decoder's split into
    shared and private parameters (``lors.models`` knows which are shared)."""
    if is_model_wrapper(model):
        model = model.module
    counts = {"total": sum(p.numel() for p in model.parameters())}
    for part in PARTS:
        module = getattr(model, part, None)
        counts[part] = sum(p.numel() for p in module.parameters()) if module is not None else 0
    shared = 0
    if getattr(model, "roi_head", None) is not None:
        try:
            from lors.models.roi_heads.mixing_factory import split_shared_private
        except ImportError:  # a detector without LORS modules: nothing is shared
            logger.debug("lors.models is not importable; counting no shared decoder weights")
        else:
            shared = int(split_shared_private(model.roi_head)["shared"])
    counts["roi_head_shared"] = shared
    counts["roi_head_private"] = counts["roi_head"] - shared
    return counts


def last_checkpoint(run_dir: Path) -> str | None:
    """The last checkpoint mmengine saved in a run folder, relative to it, or None."""
    marker = run_dir / "last_checkpoint"
    if not marker.is_file():
        return None
    path = Path(marker.read_text().strip())
    try:
        return str(path.resolve().relative_to(run_dir.resolve()))
    except ValueError:
        return str(path)


class RecordHook(Hook):
    """Writes the resumed iteration and parameter counts when training starts, and every
    evaluation into the record's history; mirrors them to the tracker.

    Args:
        writer: the run's record writer (None on ranks other than 0).
        tracker: the run's tracker.
    """

    priority = "LOWEST"

    def __init__(self, writer: RecordWriter | None, tracker: Tracker) -> None:
        self.writer = writer
        self.tracker = tracker
        self.last_eval_iter: int | None = None

    def before_train(self, runner: Any) -> None:
        if self.writer is None:
            return
        self.writer.resumed_from(runner.iter)
        params = count_params(runner.model)
        self.writer.set_params(params)
        self.tracker.summary(runner, {f"params/{k}": v for k, v in params.items()})

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
