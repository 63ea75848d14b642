"""The search controller: ask the study, plan and submit its trials as harness runs, tell results.

Each loop: trials in flight are the study's RUNNING trials (so a controller started after another
one was killed adopts what it left); new trials are asked up to ``in_flight``; a config over a
constraint, or one the knob contract refuses, is told as failed at once and never submitted; the
rest become cases of an in-memory sweep that ``harness.submit`` plans and submits like any other
(run identity, journal, lock, executors). A trial whose cells are all done is told the mean of
each objective over its seeds; one whose config equals a run done before costs nothing.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import optuna

from harness.errors import HarnessError
from harness.executors.base import Executor
from harness.identity import profile_config
from harness.layout import sweep_dir
from harness.plan import PlannedCell
from harness.search.space import distributions, overrides, trial_axes, trial_label
from harness.search.storage import clear_stale_lock
from harness.search.study import load_study
from harness.spec.config import apply_overrides
from harness.spec.model import SweepSpec
from harness.spec.search_model import ANALYTIC, TRIAL_AXIS, SearchSpec
from harness.submit import submit
from lors.errors import LorsError

logger = logging.getLogger(__name__)
RUNNING = optuna.trial.TrialState.RUNNING
LOCK_NAME = ".search.lock"
ABANDONED = "abandoned"  # user attribute of a trial a killed controller left half-asked


def ended_count(study: optuna.Study) -> int:
    """Trials that count as ended: finished ones, less the abandoned (asked again)."""
    trials = study.get_trials(deepcopy=False)
    return sum(1 for t in trials if t.state.is_finished() and ABANDONED not in t.user_attrs)


class SearchBusyError(HarnessError):
    """Another controller is driving this study."""


@contextmanager
def controller_lock(folder: Path) -> Iterator[None]:
    """One controller per study: a second one refuses in one line instead of racing it."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK_NAME).open("a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            raise SearchBusyError(
                f"{folder}: another search controller (pid {holder}) drives this study; "
                "wait for it, or stop it and run this command again to resume"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def decoder_budget(search: SearchSpec, cfg: Mapping[str, Any]) -> dict[str, float]:
    """The analytic parameter counts a constraint can name (``params.roi_head`` ...).

    Raises:
        LorsError: the config breaks the knob contract (the message says which knob).
    """
    from lors.adamixer_counting import decoder_params_from_config
    from lors.adamixer_knobs import checked_knobs

    checked_knobs(cfg)
    counts = decoder_params_from_config(cfg)
    return {key: float(counts[part]) for key, part in ANALYTIC.items() if part in counts}


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
        self.spec, self.search = spec, spec.search
        self.profile = spec.profile(profile)
        self.runs_root, self.executor = runs_root, executor
        self.wandb_mode, self.out, self.poll_s = wandb_mode, out, poll_s
        self.folder = sweep_dir(runs_root, spec.name, self.profile.name)
        self.base = profile_config(self.profile)
        self.dists = distributions(self.search)
        self.study: optuna.Study | None = None
        self.trained = 0

    def run(self, n_trials: int) -> optuna.Study:
        """Run until ``n_trials`` trials have ended; returns the study."""
        with controller_lock(self.folder):
            if self.search.storage == "journal" and clear_stale_lock(self.folder):
                self.out("removed the study journal's lock left by a killed controller")
            study = self.study = load_study(self.spec, self.profile.name, self.folder)
            self._report_resume(study, n_trials)
            while True:
                running = self._running(study)
                ended = ended_count(study)
                if ended >= n_trials and not running:
                    return study
                self._ask(study, running, n_trials - ended - len(running))
                if running:
                    self._step(study, running)
                if self._running(study):
                    self.executor.wait()
                    time.sleep(self.poll_s)

    def _report_resume(self, study: optuna.Study, n_trials: int) -> None:
        trials = study.get_trials(deepcopy=False)
        ended = ended_count(study)
        running = sum(1 for t in trials if t.state == RUNNING)
        if ended >= n_trials and not running:
            self.out(f"study {study.study_name}: complete ({ended} trials ended); nothing to train")
        elif trials:
            adopted = " (adopted: their runs are followed, not resubmitted)" if running else ""
            self.out(
                f"study {study.study_name}: resuming with {ended} trials ended and {running} in "
                f"flight{adopted}"
            )

    def _running(self, study: optuna.Study) -> dict[int, optuna.trial.FrozenTrial]:
        """The trials in flight; one a killed controller left half-asked (its parameters not
        all stored, so never submitted) is closed as abandoned and does not count."""
        out = {}
        for t in study.get_trials(deepcopy=False, states=(RUNNING,)):
            if set(t.params) == set(self.dists):
                out[t.number] = t
                continue
            _attr(study, t, ABANDONED, "asked by a controller that was killed before submitting")
            study.tell(t.number, state=optuna.trial.TrialState.FAIL)
            self.out(f"trial {t.number}: abandoned half-asked by a killed controller; asking again")
        return out

    def _ask(
        self, study: optuna.Study, running: dict[int, optuna.trial.FrozenTrial], room: int
    ) -> None:
        while len(running) < self.search.in_flight and room > 0:
            trial = study.ask(self.dists)
            room -= 1
            label = trial_label(self.search, trial.params)
            why = self._infeasible(trial.params)
            if why:
                trial.set_user_attr("infeasible", why)
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                self.out(f"trial {trial.number} [{label}]: infeasible, not submitted: {why}")
                continue
            running[trial.number] = study.get_trials(deepcopy=False)[trial.number]

    def _infeasible(self, params: Mapping[str, Any]) -> str | None:
        cfg = apply_overrides(self.base, overrides(self.search, params))
        if not isinstance((cfg.get("model") or {}).get("roi_head"), Mapping):
            return None  # not a detector with a decoder: the knob contract does not apply
        try:
            budget = decoder_budget(self.search, cfg)
        except LorsError as exc:
            return str(exc)
        for c in self.search.constraints:
            value = budget.get(c.key)
            if value is not None and not c.holds(value):
                return f"{c.key} = {value:,.0f} breaks {c.text}"
        return None

    def _step(self, study: optuna.Study, running: Mapping[int, optuna.trial.FrozenTrial]) -> None:
        """Submit what is new of the trials in flight, then tell every trial that ended."""
        labels = {n: trial_label(self.search, t.params) for n, t in running.items()}
        cases = {labels[n]: t.params for n, t in running.items()}
        spec = replace(self.spec, axes=trial_axes(self.search, cases))
        number_of = {labels[n]: n for n in sorted(running, reverse=True)}  # the first asker

        def trial_of(pc: PlannedCell) -> dict[str, Any]:
            return {"study": study.study_name, "trial": number_of[pc.cell.coords[TRIAL_AXIS]]}

        # stale: a run made with other code or config than today's: a trial runs with today's
        done = submit(spec, self.profile.name, self.runs_root, self.executor, ("new", "stale"),
                      wandb_mode=self.wandb_mode, search=trial_of)  # fmt: skip
        by_case: dict[str, list[PlannedCell]] = {}
        for pc in done.plan.cells:
            by_case.setdefault(pc.cell.coords[TRIAL_AXIS], []).append(pc)
        fresh = {pc.run_id for pc in done.cells}
        self.trained += len(fresh)
        for number, trial in running.items():
            cells = by_case.get(labels[number], [])
            submitted = [pc.run_id for pc in cells if pc.run_id in fresh]
            if submitted:
                _attr(study, trial, "run_ids", [pc.run_id for pc in cells])
                self.out(
                    f"trial {number} [{labels[number]}]: submitted run(s) {', '.join(submitted)}"
                )
            self._tell_if_ended(study, trial, labels[number], cells, fresh)

    def _tell_if_ended(
        self,
        study: optuna.Study,
        trial: optuna.trial.FrozenTrial,
        label: str,
        cells: Sequence[PlannedCell],
        fresh: set[str],
    ) -> None:
        statuses = [pc.status for pc in cells if pc.run_id not in fresh]
        if not cells or len(statuses) < len(cells):
            return
        if any(s in ("new", "queued", "running", "stale") for s in statuses):
            return
        ids = ", ".join(pc.run_id for pc in cells)
        failed = [pc for pc in cells if pc.status == "failed"]
        if failed:
            note = failed[0].note or f"see {failed[0].run_dir}/record.json"
            _attr(study, trial, "failed", note[:500])
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
            self.out(f"trial {trial.number} [{label}]: failed (run {ids}): {note.splitlines()[-1]}")
            return
        values = self._values(cells)
        if values is None:
            _attr(study, trial, "failed", "an objective has no value")
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
            self.out(
                f"trial {trial.number} [{label}]: failed: an objective has no value (run {ids})"
            )
            return
        reused = all(_before(pc, trial) for pc in cells)
        _attr(study, trial, "run_ids", [pc.run_id for pc in cells])
        study.tell(trial.number, values)
        shown = ", ".join(
            f"{o.metric}={v:.4g}" for o, v in zip(self.search.objectives, values, strict=True)
        )
        how = f"reuses run {ids}, done before: costs nothing" if reused else f"run {ids}"
        self.out(f"trial {trial.number} [{label}]: {shown} ({how})")

    def _values(self, cells: Sequence[PlannedCell]) -> list[float] | None:
        out = []
        for objective in self.search.objectives:
            got = [pc.record.value(objective.metric) if pc.record else None for pc in cells]
            if any(v is None for v in got):
                return None
            out.append(sum(v for v in got if v is not None) / len(got))
        return out


def _attr(study: optuna.Study, trial: optuna.trial.FrozenTrial, key: str, value: Any) -> None:
    """Set a user attribute on a trial that is still running (a frozen copy cannot)."""
    optuna.trial.Trial(study, trial._trial_id).set_user_attr(key, value)


def _before(pc: PlannedCell, trial: optuna.trial.FrozenTrial) -> bool:
    """Whether the cell's run was created before the trial was asked (a reused result)."""
    created = pc.record.created if pc.record is not None else None
    start = trial.datetime_start
    if not created or start is None:
        return False
    from datetime import UTC, datetime

    made = datetime.fromisoformat(created.replace("Z", "+00:00"))
    if made.tzinfo is None:
        made = made.replace(tzinfo=UTC)
    return made < start.astimezone(UTC)  # Optuna's times are naive local ones
