"""Where a study lives: a journal file in the sweep folder (the default: safe on a shared
filesystem), SQLite, or PostgreSQL, opened with one-line errors for an unreachable URL."""

from __future__ import annotations

from pathlib import Path

import optuna
from optuna.storages.journal import JournalFileBackend

from harness.errors import HarnessError

JOURNAL_NAME = "study.journal"


def journal_path(sweep: Path) -> Path:
    """The journal file of a sweep folder's study."""
    return sweep / JOURNAL_NAME


def clear_stale_lock(sweep: Path) -> bool:
    """Remove the journal's write lock left by a writer that was killed mid-write.

    Optuna's file lock is a link beside the journal that only its holder removes; after a kill -9
    the next writer waits 30 s, then breaks it and may fail. Call this only while holding the
    controller lock (``harness.search.controller.controller_lock``): then no other harness
    process writes this journal, so a lock that exists is stale.

    Returns:
        Whether a stale lock was removed.
    """
    lock = Path(str(journal_path(sweep)) + ".lock")
    if lock.is_symlink() or lock.exists():
        lock.unlink()
        return True
    return False


def open_storage(url: str, sweep: Path, create: bool = True) -> optuna.storages.BaseStorage:
    """The study storage a spec names (``journal``, ``sqlite:///PATH``, ``postgresql://...``).

    Args:
        url: the spec's ``search.storage``.
        sweep: the sweep folder (the journal goes there).
        create: whether a journal file may be created (False: a dry run).

    Raises:
        HarnessError: the storage cannot be opened; the message names the URL and the cause.
    """
    if url == "journal":
        path = journal_path(sweep)
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.exists():
            return optuna.storages.InMemoryStorage()
        backend = JournalFileBackend(str(path))
        return optuna.storages.JournalStorage(backend)
    try:
        return optuna.storages.RDBStorage(_driver(url), engine_kwargs={"pool_pre_ping": True})
    except Exception as exc:  # sqlalchemy's and the driver's errors: all mean "cannot open"
        cause = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise HarnessError(f"search.storage: cannot open {url!r} ({cause})") from None


def _driver(url: str) -> str:
    """``postgresql://`` with the driver this environment has: SQLAlchemy 2.1 takes psycopg 3 for
    a bare ``postgresql://``, the project installs psycopg2 (``psycopg2-binary``)."""
    if not url.startswith("postgresql://"):
        return url
    import importlib.util

    if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2"):
        return "postgresql+psycopg2://" + url.removeprefix("postgresql://")
    return url


def shown(url: str, sweep: Path) -> str:
    """The storage as ``optuna-dashboard`` takes it."""
    return str(journal_path(sweep)) if url == "journal" else url
