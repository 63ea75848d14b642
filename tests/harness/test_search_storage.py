"""The study journal's batched fsync and the controller's book of its study: writes inside a batch
reach the file at once (another reader sees them) and are fsynced once, at the outermost end,
even when the block raises, or left to the next fsync; the book's counts equal a full read of
the study after every tell, and a half-asked trial is abandoned and left out."""

from __future__ import annotations

import os
from pathlib import Path

import optuna
import pytest

from harness.search import storage as storage_module
from harness.search.book import Book
from harness.search.storage import JOURNAL_NAME, batched, flush, open_storage
from harness.search.trials import ABANDONED, tally

DISTS = {"x": optuna.distributions.IntDistribution(0, 10)}
FAIL = optuna.trial.TrialState.FAIL


def _fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def counted(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(storage_module.os, "fsync", counted)
    return calls


def _study(folder: Path) -> optuna.Study:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        storage=open_storage("journal", folder), study_name="s", load_if_exists=True
    )


def test_a_batch_writes_at_once_and_fsyncs_once_at_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = _study(tmp_path)
    calls = _fsyncs(monkeypatch)
    study.ask(DISTS)  # outside a batch: a trial and its parameter, each fsynced
    assert len(calls) == 2
    with batched(study):
        with batched(study):  # nested: the outer block's end fsyncs
            trial = study.ask(DISTS)
            trial.set_user_attr("run_ids", ["abc"])
        # another process's view of the file, mid-batch
        reader = optuna.load_study(study_name="s", storage=open_storage("journal", tmp_path))
        assert reader.trials[1].user_attrs == {"run_ids": ["abc"]}
        assert len(calls) == 2
    assert len(calls) == 3
    with pytest.raises(RuntimeError), batched(study):
        study.tell(trial, 1.0)
        raise RuntimeError("the block fails after a write")
    assert len(calls) == 4  # what was written is fsynced all the same
    with batched(study, sync=False):  # left to the next fsync
        study.tell(study.ask(DISTS), 2.0)
    assert len(calls) == 4
    flush(study)
    flush(study)  # nothing left: no fsync
    assert len(calls) == 5
    with batched(study, sync=False):
        study.ask(DISTS)
    with batched(study):  # a later block's end fsyncs what the first left
        pass
    assert len(calls) == 6
    reader = optuna.load_study(study_name="s", storage=open_storage("journal", tmp_path))
    assert reader.trials[1].state == optuna.trial.TrialState.COMPLETE


def test_a_new_journal_fsyncs_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _fsyncs(monkeypatch)
    open_storage("journal", tmp_path)
    assert (tmp_path / JOURNAL_NAME).exists()
    assert len(calls) == 1 and not (tmp_path / JOURNAL_NAME).stat().st_size


def test_the_book_counts_as_a_full_read_does(tmp_path: Path) -> None:
    study = _study(tmp_path)
    done = study.ask(DISTS)
    study.tell(done, 1.0)
    study.ask(DISTS)  # in flight: adopted
    half = study.ask()  # a killed controller's half-asked trial: no parameters stored
    lines: list[str] = []
    book = Book(study, DISTS, lines.append)
    assert [t.number for t in book.running.values()] == [1]
    assert ABANDONED in study.trials[half.number].user_attrs and "abandoned" in lines[0]
    assert book.counts == tally(study.get_trials()) and book.ended == 1
    trial = study.ask(DISTS)
    book.asked(trial)
    assert set(book.running) == {1, trial.number}
    infeasible = study.ask(DISTS)
    infeasible.set_user_attr("infeasible", "too big")
    book.tell(infeasible, state=FAIL)
    book.tell(book.running[1], [2.0])
    book.tell(trial, state=optuna.trial.TrialState.PRUNED)
    assert book.running == {}
    assert book.counts == tally(study.get_trials())
    assert book.counts["INFEASIBLE"] == 1 and book.ended == 4
    book.read()
    assert book.counts == tally(study.get_trials())
