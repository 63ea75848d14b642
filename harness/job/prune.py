"""``PruneHook``: a search trial's run reports each evaluation to its trial and stops when the
study's pruner says so (docs/search.md, "Pruning").

Rank 0 reports and asks the pruner; every rank learns the answer, so all processes of a
multi-process run stop at the same iteration. A pruned run closes its attempt as ``pruned`` with
a checkpoint of the iteration it stopped at: a later trial that asks the same config and is not
pruned there continues from it. A study that cannot be reached does not stop the run: it trains
on unpruned, and says so in its log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmengine.hooks import Hook

from harness.records.store import last_checkpoint
from harness.records.writer import RecordWriter

logger = logging.getLogger(__name__)


def _agree(flag: bool) -> bool:
    """Rank 0's answer on every rank (one process: the flag itself)."""
    from mmengine.dist import broadcast_object_list, get_world_size

    if get_world_size() == 1:
        return flag
    box = [flag]
    broadcast_object_list(box, src=0)
    return bool(box[0])


class PruneHook(Hook):
    """Reports every evaluation to the trial; stops training when the trial is pruned.

    Args:
        writer: the run's record writer (None on ranks other than 0).
        search: the payload's ``search`` block: ``study``, ``trial`` and ``prune`` (``pruner``,
            ``metric``, ``storage``, ``folder``: the sweep folder a journal lives in).
    """

    priority = "LOWEST"  # after RecordHook, which appends the evaluation to the history

    def __init__(self, writer: RecordWriter | None, search: Mapping[str, Any]) -> None:
        self.writer = writer
        self.search = search
        self.prune = dict(search["prune"])
        self.pruned = False
        self._study: Any = None
        self._trial_id: int | None = None

    def _open(self) -> tuple[Any, int]:
        if self._study is None or self._trial_id is None:
            import optuna

            from harness.search.pruning import build_pruner
            from harness.search.storage import open_storage

            storage = open_storage(self.prune["storage"], Path(self.prune["folder"]))
            optuna.logging.set_verbosity(optuna.logging.WARNING)
            self._study = optuna.load_study(
                study_name=self.search["study"],
                storage=storage,
                pruner=build_pruner(self.prune["pruner"]),
                sampler=optuna.samplers.RandomSampler(),  # never samples: no TPE set-up cost
            )
            number = int(self.search["trial"])
            trial = next(t for t in self._study.get_trials(deepcopy=False) if t.number == number)
            self._trial_id = trial._trial_id
        return self._study, self._trial_id

    def _decide(self, runner: Any) -> bool:
        from harness.search.pruning import entry_value, report_history, should_prune, step_of

        assert self.writer is not None
        history = self.writer.record["history"]
        if not history or entry_value(history[-1], self.prune["metric"]) is None:
            return False
        try:
            study, trial_id = self._open()
            report_history(study, trial_id, history, self.prune["metric"])
            if not should_prune(study, trial_id):
                return False
        except Exception as exc:  # the study is advice: a run never fails because of it
            logger.warning("trial %s: cannot report to the study (%s); training on unpruned",
                           self.search.get("trial"), exc)  # fmt: skip
            return False
        last = history[-1]
        self.writer.finish(
            "pruned",
            checkpoint=_checkpoint_here(runner),
            pruned={
                "trial": int(self.search["trial"]),
                "step": step_of(last),
                "iter": int(last["iter"]),
                "value": entry_value(last, self.prune["metric"]),
            },
        )
        return True

    def after_val_epoch(self, runner: Any, metrics: dict[str, float] | None = None) -> None:
        loop = runner._train_loop  # the property would build a loop for a val-only runner
        if loop is None or isinstance(loop, dict) or self.pruned:
            return
        decision = self._decide(runner) if self.writer is not None else False
        if _agree(decision):
            self.pruned = True
            loop.stop_training = True
            logger.info("trial %s: pruned at iteration %d", self.search.get("trial"), runner.iter)


def _checkpoint_here(runner: Any) -> str | None:
    """The checkpoint of the iteration the run stops at, saved now if the schedule did not."""
    from mmengine.runner import EpochBasedTrainLoop

    run_dir = Path(runner.work_dir)
    by_epoch = isinstance(runner._train_loop, EpochBasedTrainLoop)
    # the names mmengine's CheckpointHook gives: after epoch N's evaluation runner.epoch is N
    name = f"epoch_{runner.epoch}.pth" if by_epoch else f"iter_{runner.iter}.pth"
    if not (run_dir / name).is_file():
        runner.save_checkpoint(str(run_dir), name, save_optimizer=True, save_param_scheduler=True)
    if last_checkpoint(run_dir) != name:
        (run_dir / "last_checkpoint").write_text(str(run_dir / name))
    return last_checkpoint(run_dir)
