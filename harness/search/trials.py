"""Small facts about a study's trials the controller and the CLI share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import optuna

from harness.plan import PlannedCell

ABANDONED = "abandoned"  # user attribute of a trial a killed controller left half-asked
RETRIES = "retries"  # user attribute: how often the trial's vanished runs were resubmitted


def ended_count(study: optuna.Study) -> int:
    """Trials that count as ended: finished ones, less the abandoned (asked again)."""
    trials = study.get_trials(deepcopy=False)
    return sum(1 for t in trials if t.state.is_finished() and ABANDONED not in t.user_attrs)


def set_attr(study: optuna.Study, trial: optuna.trial.FrozenTrial, key: str, value: Any) -> None:
    """Set a user attribute on a trial that is still running (a frozen copy cannot)."""
    optuna.trial.Trial(study, trial._trial_id).set_user_attr(key, value)


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
    ended = ended_count(study)
    running = sum(1 for t in trials if t.state == optuna.trial.TrialState.RUNNING)
    if ended >= n_trials and not running:
        return f"study {study.study_name}: complete ({ended} trials ended); nothing to train"
    if not trials:
        return None
    adopted = " (adopted: their runs are followed, not resubmitted)" if running else ""
    return (f"study {study.study_name}: resuming with {ended} trials ended and {running} in "
            f"flight{adopted}")  # fmt: skip


def progress_line(study: optuna.Study, n_trials: int, trained: int, elapsed_s: float) -> str:
    """``progress: 3/8 trials ended (2 complete, 1 pruned, 0 failed), 2 in flight, 3 runs
    trained, 4m10s, ETA ~7m``: the ETA from the mean time per ended trial of this command."""
    trials = [t for t in study.get_trials(deepcopy=False) if ABANDONED not in t.user_attrs]
    states = [t.state.name for t in trials]
    ended = sum(1 for t in trials if t.state.is_finished())
    running = states.count("RUNNING")
    counts = (
        f"{states.count('COMPLETE')} complete, {states.count('PRUNED')} pruned, "
        f"{states.count('FAIL')} failed"
    )
    line = (f"progress: {min(ended, n_trials)}/{n_trials} trials ended ({counts}), {running} in "
            f"flight, {trained} runs trained, {_clock(elapsed_s)}")  # fmt: skip
    return line


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}h{s // 60 % 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"
