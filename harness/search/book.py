"""The controller's account of its study: the trials in flight and how many ended in each state.

It is read in full from the study when the controller starts and after every wait for jobs, and
kept in between by the controller's own asks and tells: the controller is the only process that
asks or tells the study's trials (one controller per study; jobs only report evaluations). So a
trial costs no pass over every trial the study has, which grew with the study.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import optuna

from harness.search.storage import batched
from harness.search.trials import ABANDONED, set_attr, tally

RUNNING = optuna.trial.TrialState.RUNNING
FAIL = optuna.trial.TrialState.FAIL
ENDED = ("COMPLETE", "PRUNED", "FAIL")


class Book:
    """The trials in flight (number -> trial) and the counts of :func:`tally`.

    Args:
        study: the study.
        dists: the search space (a trial asked with fewer parameters was left half-asked).
        out: where the line about a half-asked trial goes.
    """

    def __init__(
        self,
        study: optuna.Study,
        dists: Mapping[str, optuna.distributions.BaseDistribution],
        out: Callable[[str], None],
    ) -> None:
        self.study, self.dists, self.out = study, dists, out
        self.running: dict[int, optuna.trial.FrozenTrial] = {}
        self._asked: dict[int, optuna.Trial] = {}  # told by object: no look-up by number
        self._counts: dict[str, int] = {}
        self.read()

    def read(self) -> None:
        """Read the study again: adopt its RUNNING trials; one a killed controller left
        half-asked (its parameters not all stored, so never submitted) is closed as abandoned
        and does not count."""
        trials = self.study.get_trials(deepcopy=False)
        self.running = {}
        with batched(self.study):
            for t in (t for t in trials if t.state == RUNNING):
                if set(t.params) == set(self.dists):
                    self.running[t.number] = t
                    continue
                set_attr(self.study, t, ABANDONED, "asked by a controller that was killed before "
                         "submitting")  # fmt: skip
                self.study.tell(t.number, state=FAIL)
                self.out(f"trial {t.number}: abandoned half-asked by a killed controller; "
                         "asking again")  # fmt: skip
        self._counts = tally(trials)  # an abandoned trial: RUNNING there, and RUNNING is ours
        self._asked = {n: t for n, t in self._asked.items() if n in self.running}

    @property
    def counts(self) -> dict[str, int]:
        """State name -> trials, as :func:`~harness.search.trials.tally` counts them."""
        return {**self._counts, "RUNNING": len(self.running)}

    @property
    def ended(self) -> int:
        """Trials that count as ended (finished, the abandoned left out)."""
        return sum(self._counts[k] for k in ENDED)

    def asked(self, trial: optuna.Trial) -> None:
        """A trial this controller just asked (all its parameters stored): now in flight."""
        self._asked[trial.number] = trial
        self.running[trial.number] = self.study._storage.get_trial(trial._trial_id)

    def tell(
        self,
        trial: optuna.trial.FrozenTrial | optuna.Trial,
        values: Sequence[float] | None = None,
        state: optuna.trial.TrialState | None = None,
    ) -> None:
        """Tell the study a trial's result and count it."""
        target: Any = self._asked.pop(trial.number, None)
        if target is None:
            target = trial if isinstance(trial, optuna.Trial) else trial.number
        told = self.study.tell(target, values, state=state)
        self.running.pop(trial.number, None)
        for key, count in tally([told]).items():
            self._counts[key] += count
