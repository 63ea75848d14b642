"""Where a study lives: a journal file in the sweep folder (the default: safe on a shared
filesystem), SQLite, or PostgreSQL, opened with one-line errors for an unreachable URL."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

import optuna
from optuna.storages.journal import JournalFileBackend
from optuna.storages.journal._file import BaseJournalFileLock

from harness.errors import HarnessError

JOURNAL_NAME = "study.journal"
RECORD_LOCK_SUFFIX = ".flock"


class RecordLock(BaseJournalFileLock):
    """The journal's write lock as a POSIX record lock (``fcntl.lockf``) on a file beside it.

    Jobs write the journal too (their pruning reports), so a lock can be held by any process of
    the study. The kernel drops a record lock when its process dies: a kill -9 mid-write never
    leaves a lock behind, where Optuna's own symlink lock stays until a 30 s grace period breaks
    it. NFSv4, and Lustre mounted with ``flock``, honour record locks across nodes.
    """

    def __init__(self, journal: str) -> None:
        self._path = journal + RECORD_LOCK_SUFFIX
        self._fh: IO[str] | None = None

    def acquire(self) -> bool:
        fh = open(self._path, "a")  # noqa: SIM115 (held until release)
        fcntl.lockf(fh, fcntl.LOCK_EX)
        self._fh = fh
        return True

    def release(self) -> None:
        if self._fh is not None:
            fcntl.lockf(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


def journal_path(sweep: Path) -> Path:
    """The journal file of a sweep folder's study."""
    return sweep / JOURNAL_NAME


def clear_stale_lock(sweep: Path) -> bool:
    """Remove Optuna's symlink lock beside the journal, left by a writer killed mid-write.

    The harness locks the journal with :class:`RecordLock`, which no kill leaves behind; this
    symlink lock is Optuna's default (a study written by plain Optuna or an older harness), which
    only its holder removes: the next writer would wait 30 s, then break it. Call this only while
    holding the controller lock (``harness.search.controller.controller_lock``): no harness
    process takes the symlink lock, so one that exists is stale.

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
        backend = JournalFileBackend(str(path), lock_obj=RecordLock(str(path)))
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
