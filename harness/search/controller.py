"""The search controller: ask the study, plan and submit its trials as harness runs, tell results.

It adopts the study's RUNNING trials (what a killed controller left) when it starts and after
each wait for jobs (:class:`~harness.search.book.Book`). Each loop asks new ones up to
``in_flight``, tells an infeasible config failed without submitting it, and plans and submits the
rest through ``harness.submit`` as cases of an in-memory sweep. A trial is told the mean of each
objective over its seeds; a config equal to a done run costs nothing. A vanished run is
resubmitted (``search.retries``); a pruned one goes on when a later trial is not pruned there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import optuna

from harness.executors.base import Executor
from harness.identity import profile_config
from harness.layout import sweep_dir
from harness.plan import PlannedCell
from harness.search.book import Book
from harness.search.budget import effective_params, infeasible
from harness.search.lock import controller_lock
from harness.search.pruning import prune_block, report_history, should_prune
from harness.search.space import distributions, trial_axes, trial_label
from harness.search.storage import batched, clear_stale_lock, flush
from harness.search.study import load_study
from harness.search.trials import (
    RETRIES,
    ended_since,
    made_before,
    objective_values,
    progress_line,
    resume_line,
    set_attr,
)
from harness.spec.model import SweepSpec
from harness.spec.search_model import TRIAL_AXIS
from harness.submit import submit

logger = logging.getLogger(__name__)
PRUNED = optuna.trial.TrialState.PRUNED
FAIL = optuna.trial.TrialState.FAIL


class Controller:
    """Drives one study of a search spec in one profile.

    Args:
        spec: the search spec (``spec.search`` set).
        profile: the profile's name.
        runs_root: the runs root.
        executor: where the trials' runs go.
        wandb_mode: the runs' W&B mode.
        out: where progress lines go.
        poll_s: seconds between looks at the records.
    """

    book: Book  # the study's trials in flight and counts, while :meth:`run` runs

    def __init__(
        self,
        spec: SweepSpec,
        profile: str,
        runs_root: Path,
        executor: Executor,
        wandb_mode: str = "offline",
        out: Callable[[str], None] = print,
        poll_s: float = 5.0,
    ) -> None:
        assert spec.search is not None
        search = spec.search.for_profile(profile)  # idempotent: the CLI may have done it
        self.spec, self.search = replace(spec, search=search), search
        self.profile = spec.profile(profile)
        self.runs_root, self.executor = runs_root, executor
        self.wandb_mode, self.out, self.poll_s = wandb_mode, out, poll_s
        self.folder = sweep_dir(runs_root, spec.name, self.profile.name)
        self.base = profile_config(self.profile)
        self.dists = distributions(self.search)
        self.study: optuna.Study | None = None
        self.trained = 0
        self._repruned: dict[int, Mapping[str, Any]] = {}  # trial -> where its replay pruned it
        self._effective: dict[int, dict[str, Any]] = {}  # trial -> its params that shape a model

    def run(self, n_trials: int) -> optuna.Study:
        """Run until ``n_trials`` trials have ended; returns the study."""
        with controller_lock(self.folder):
            if self.search.storage == "journal" and clear_stale_lock(self.folder):
                self.out("removed the study journal's lock left by a killed controller")
            study = self.study = load_study(self.spec, self.profile.name, self.folder)
            line = resume_line(study, n_trials)
            if line:
                self.out(line)
            book = self.book = Book(study, self.dists, self.out)
            try:
                self._loop(study, book, n_trials)
            finally:
                flush(study)  # the tells the last loop left to the next fsync
            return study

    def _loop(self, study: optuna.Study, book: Book, n_trials: int) -> None:
        start, shown = time.monotonic(), book.ended
        before = shown
        while True:
            ended = book.ended
            if ended != shown:
                shown = ended
                elapsed = time.monotonic() - start
                self.out(progress_line(book.counts, n_trials, self.trained, elapsed, before))
            if ended >= n_trials and not book.running:
                return
            self._ask(study, book, n_trials - ended - len(book.running))  # fsyncs the tells too
            if book.running:
                self._step(study, dict(book.running))
            if book.running:  # some runs go on: wait for them, then read the study again
                flush(study)
                self.executor.wait()
                time.sleep(self.poll_s)
                book.read()

    def _params(self, trial: optuna.Trial | optuna.trial.FrozenTrial) -> dict[str, Any]:
        """The trial's parameters that change its model (``effective_params``), once per trial."""
        if trial.number not in self._effective:
            self._effective[trial.number] = effective_params(self.search, self.base, trial.params)
        return self._effective[trial.number]

    def _ask(self, study: optuna.Study, book: Book, room: int) -> None:
        with batched(study):  # one fsync for the asks (and the tells before): then the submit
            while len(book.running) < self.search.in_flight and room > 0:
                trial = study.ask(self.dists)
                room -= 1
                label = trial_label(self.search, self._params(trial))
                why = infeasible(self.search, self.base, trial.params)
                if why:
                    trial.set_user_attr("infeasible", why)
                    book.tell(trial, state=FAIL)
                    self.out(f"trial {trial.number} [{label}]: infeasible, not submitted: {why}")
                    continue
                book.asked(trial)

    def _step(self, study: optuna.Study, running: Mapping[int, optuna.trial.FrozenTrial]) -> None:
        """Submit what is new of the trials in flight, then tell every trial that ended."""
        labels = {n: trial_label(self.search, self._params(t)) for n, t in running.items()}
        cases = {labels[n]: self._params(t) for n, t in running.items()}
        spec = replace(self.spec, axes=trial_axes(self.search, cases))
        number_of = {labels[n]: n for n in sorted(running, reverse=True)}  # the first asker
        notes: dict[int, str] = {}

        prune = prune_block(self.search, self.folder)

        def trial_of(pc: PlannedCell) -> dict[str, Any]:
            number = number_of[pc.cell.coords[TRIAL_AXIS]]
            return {"study": study.study_name, "trial": number, **prune}

        def choose(pc: PlannedCell) -> bool:
            number = number_of[pc.cell.coords[TRIAL_AXIS]]
            return self._resubmit(study, running[number], pc, notes)

        # stale: a run made with other code or config than today's: a trial runs with today's
        done = submit(spec, self.profile.name, self.runs_root, self.executor, ("new", "stale"),
                      wandb_mode=self.wandb_mode, search=trial_of, choose=choose)  # fmt: skip
        by_case: dict[str, list[PlannedCell]] = {}
        for pc in done.plan.cells:
            by_case.setdefault(pc.cell.coords[TRIAL_AXIS], []).append(pc)
        fresh = {pc.run_id for pc in done.cells}
        self.trained += len(fresh)
        ended = {pc.run_id: pc for pc in map(ended_since, done.cells) if pc is not None}
        with batched(study, sync=False):  # run ids, reports, tells: fsynced by the next ask
            for number, trial in running.items():
                cells = [ended.get(pc.run_id, pc) for pc in by_case.get(labels[number], [])]
                submitted = [pc.run_id for pc in cells if pc.run_id in fresh]
                if submitted:
                    set_attr(study, trial, "run_ids", [pc.run_id for pc in cells])
                    why = f": {notes[number]}" if number in notes else ""
                    self.out(f"trial {number} [{labels[number]}]: submitted run(s) "
                             f"{', '.join(submitted)}{why}")  # fmt: skip
                elif number in notes:
                    self.out(f"trial {number} [{labels[number]}]: {notes[number]}")
                self._tell_if_ended(
                    study, trial, labels[number], cells, fresh - set(ended), bool(submitted)
                )

    def _resubmit(
        self,
        study: optuna.Study,
        trial: optuna.trial.FrozenTrial,
        pc: PlannedCell,
        notes: dict[int, str],
    ) -> bool:
        """Whether a run that ended without a result goes again for this trial.

        A vanished run (its job killed, cancelled or lost) resumes from its last checkpoint, at
        most ``search.retries`` times per trial; a pruned run continues from its checkpoint when
        the trial that asks for it now is not pruned at the step the run stopped at.
        """
        if pc.vanished:
            done = int(trial.user_attrs.get(RETRIES, 0))
            if done >= self.search.retries:
                return False
            set_attr(study, trial, RETRIES, done + 1)
            why = pc.note or "its job ended without a result"
            notes[trial.number] = (f"{why}; resubmitted to resume from its last checkpoint "
                                   f"(retry {done + 1} of {self.search.retries})")  # fmt: skip
            return True
        if pc.status != "pruned" or pc.record is None:
            return False
        stop = pc.record.pruned or {}
        if not self.search.pruner.enabled:
            notes[trial.number] = f"continues run {pc.run_id} (pruned before; no pruner now)"
            return True
        if stop.get("trial") == trial.number:
            return False  # this trial's own run was pruned: told below
        report_history(study, trial._trial_id, pc.record.history, self.search.objectives[0].metric)
        where = f"at step {stop.get('step')} (iteration {stop.get('iter')})"
        if should_prune(study, trial._trial_id):
            self._repruned[trial.number] = stop
            return False
        notes[trial.number] = f"not pruned {where}: continues run {pc.run_id} from its checkpoint"
        return True

    def _tell_if_ended(
        self,
        study: optuna.Study,
        trial: optuna.trial.FrozenTrial,
        label: str,
        cells: Sequence[PlannedCell],
        fresh: set[str],
        attributed: bool = False,
    ) -> bool:
        """Tell the trial its result once every run of it ended (``attributed``: its run ids
        were just set on it); returns whether it was told."""
        statuses = [pc.status for pc in cells if pc.run_id not in fresh]
        if not cells or len(statuses) < len(cells):
            return False
        if any(s in ("new", "queued", "running", "stale") for s in statuses):
            return False
        ids = ", ".join(pc.run_id for pc in cells)
        pruned = [pc for pc in cells if pc.status == "pruned"]
        if pruned:
            return self._tell_pruned(study, trial, label, pruned[0])
        failed = [pc for pc in cells if pc.status == "failed"]
        if failed:
            note = failed[0].note or f"see {failed[0].run_dir}/record.json"
            if failed[0].vanished:
                note = (f"{note}; its job vanished {self.search.retries + 1} times, not retried "
                        f"further (search.retries: {self.search.retries})")  # fmt: skip
            set_attr(study, trial, "failed", note[:500])
            self.book.tell(trial, state=FAIL)
            self.out(f"trial {trial.number} [{label}]: failed (run {ids}): {note.splitlines()[-1]}")
            return True
        values = objective_values(self.search, cells)
        if values is None:
            set_attr(study, trial, "failed", "an objective has no value")
            self.book.tell(trial, state=FAIL)
            self.out(
                f"trial {trial.number} [{label}]: failed: an objective has no value (run {ids})"
            )
            return True
        reused = all(made_before(pc, trial) for pc in cells)
        if not attributed and trial.user_attrs.get("run_ids") != [pc.run_id for pc in cells]:
            set_attr(study, trial, "run_ids", [pc.run_id for pc in cells])
        if self.search.pruner.enabled and len(cells) == 1 and cells[0].record is not None:
            # the curve of a reused run too: the pruner compares later trials with it
            metric = self.search.objectives[0].metric
            report_history(study, trial._trial_id, cells[0].record.history, metric)
        self.book.tell(trial, values)
        shown = ", ".join(
            f"{o.metric}={v:.4g}" for o, v in zip(self.search.objectives, values, strict=True)
        )
        how = f"reuses run {ids}, done before: costs nothing" if reused else f"run {ids}"
        self.out(f"trial {trial.number} [{label}]: {shown} ({how})")
        return True

    def _tell_pruned(
        self, study: optuna.Study, trial: optuna.trial.FrozenTrial, label: str, pc: PlannedCell
    ) -> bool:
        assert pc.record is not None
        stop = pc.record.pruned or {}
        again = self._repruned.pop(trial.number, None)
        if again is None and stop.get("trial") != trial.number:
            return False  # a pruned run another trial may still continue: decided when submitted
        value = stop.get("value")
        shown = f"{self.search.objectives[0].metric}={value:.4g}" if value is not None else ""
        where = f"at step {stop.get('step')} (iteration {stop.get('iter')})"
        set_attr(study, trial, "run_ids", [pc.run_id])
        set_attr(study, trial, "pruned", where)
        self.book.tell(trial, state=PRUNED)
        if again is not None:
            self.out(f"trial {trial.number} [{label}]: pruned again {where} from run "
                     f"{pc.run_id}'s history ({shown}): costs nothing")  # fmt: skip
        else:
            self.out(f"trial {trial.number} [{label}]: pruned {where}, {shown} (run {pc.run_id}; "
                     "its checkpoint stays for a later trial of this config)")  # fmt: skip
        return True
