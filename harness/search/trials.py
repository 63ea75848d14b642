"""Small facts about a study's trials the controller and the CLI share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import optuna

from harness.errors import RecordError
from harness.plan import PlannedCell
from harness.records.record import read_run_record
from harness.records.store import record_path
from harness.spec.search_model import SearchSpec

ABANDONED = "abandoned"  # user attribute of a trial a killed controller left half-asked
RETRIES = "retries"  # user attribute: how often the trial's vanished runs were resubmitted
TERMINAL = ("done", "failed", "pruned")  # a run's statuses once it has ended


def tally(trials: Sequence[optuna.trial.FrozenTrial]) -> dict[str, int]:
    """State name -> how many trials, the abandoned (asked again) left out, plus ``INFEASIBLE``:
    the FAIL trials told so before training (counted in FAIL too); one pass."""
    by_state = dict.fromkeys(optuna.trial.TrialState, 0)
    fail, infeasible = optuna.trial.TrialState.FAIL, 0
    for t in trials:
        if t.state is fail and ABANDONED in t._user_attrs:  # read without copying them
            continue
        by_state[t.state] += 1
        infeasible += t.state is fail and "infeasible" in t._user_attrs
    return {**{state.name: count for state, count in by_state.items()}, "INFEASIBLE": infeasible}


def ended_count(trials: Sequence[optuna.trial.FrozenTrial]) -> int:
    """Trials that count as ended: finished ones, less the abandoned (asked again)."""
    counts = tally(trials)
    return counts["COMPLETE"] + counts["PRUNED"] + counts["FAIL"]


def set_attr(study: optuna.Study, trial: optuna.trial.FrozenTrial, key: str, value: Any) -> None:
    """Set a user attribute on a trial that is still running (a frozen copy cannot), straight
    through the storage: an ``optuna.Trial`` made for it would read the trial back and run the
    sampler's ``before_trial`` again."""
    study._storage.set_trial_user_attr(trial._trial_id, key, value)


def made_before(pc: PlannedCell, trial: optuna.trial.FrozenTrial) -> bool:
    """Whether the cell's run was created before the trial was asked (a reused result)."""
    created = pc.record.created if pc.record is not None else None
    start = trial.datetime_start
    if not created or start is None:
        return False
    made = datetime.fromisoformat(created.replace("Z", "+00:00"))
    if made.tzinfo is None:
        made = made.replace(tzinfo=UTC)
    return made < start.astimezone(UTC)  # Optuna's times are naive local ones


def resume_line(study: optuna.Study, n_trials: int) -> str | None:
    """What a controller finds when it starts on a study that has trials (None: a new study)."""
    trials = study.get_trials(deepcopy=False)
    ended = ended_count(trials)
    running = sum(1 for t in trials if t.state == optuna.trial.TrialState.RUNNING)
    if ended >= n_trials and not running:
        return f"study {study.study_name}: complete ({ended} trials ended); nothing to train"
    if not trials:
        return None
    adopted = " (adopted: their runs are followed, not resubmitted)" if running else ""
    return (f"study {study.study_name}: resuming with {ended} trials ended and {running} in "
            f"flight{adopted}")  # fmt: skip


def progress_line(
    counts: Mapping[str, int],
    n_trials: int,
    trained: int,
    elapsed_s: float,
    ended_before: int = 0,
) -> str:
    """``progress: 3/8 trials ended (2 complete, 1 pruned, 0 failed), 2 in flight, 3 runs
    trained, 4m10s, ETA ~7m`` from the counts of :func:`tally`: the ETA from the mean time per
    trial ended by this command (``ended_before``: the trials that had ended when it started)."""
    ended = counts["COMPLETE"] + counts["PRUNED"] + counts["FAIL"]
    shown = (f"{counts['COMPLETE']} complete, {counts['PRUNED']} pruned, "
             f"{counts['FAIL']} failed ({counts['INFEASIBLE']} infeasible)")  # fmt: skip
    here, left = ended - ended_before, max(0, n_trials - ended)
    eta = f", ETA ~{_clock(elapsed_s / here * left)}" if here > 0 and left else ""
    return (f"progress: {min(ended, n_trials)}/{n_trials} trials ended ({shown}), "
            f"{counts['RUNNING']} in flight, {trained} runs trained, "
            f"{_clock(elapsed_s)}{eta}")  # fmt: skip


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}h{s // 60 % 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def objective_values(search: SearchSpec, cells: Sequence[PlannedCell]) -> list[float] | None:
    """Each objective's mean over a trial's runs (its seeds); None when a run lacks one."""
    out = []
    for objective in search.objectives:
        got = [pc.record.value(objective.metric) if pc.record else None for pc in cells]
        if any(v is None for v in got):
            return None
        out.append(sum(v for v in got if v is not None) / len(got))
    return out


def ended_since(pc: PlannedCell) -> PlannedCell | None:
    """A submitted cell whose run already ended (the debug executor runs it in ``submit``), with
    its record, so it is told now rather than after another plan; None while it runs."""
    try:
        record = read_run_record(record_path(pc.run_dir))
    except RecordError:
        return None
    own = pc.record is not None and pc.record.run_id == pc.run_id  # not a stale cell's older run
    before = len(pc.record.attempts) if own and pc.record is not None else 0
    if record is None or record.run_id != pc.run_id or record.status not in TERMINAL:
        return None
    if len(record.attempts) <= before:  # no attempt of the job just submitted has ended
        return None
    return replace(pc, status=record.status, record=record, record_path=record.path)
