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
