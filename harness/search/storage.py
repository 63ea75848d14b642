"""Where a study lives: a journal file in the sweep folder (the default: safe on a shared
filesystem), SQLite, or PostgreSQL, opened with one-line errors for an unreachable URL."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import optuna
from optuna.storages.journal import JournalFileBackend
from optuna.storages.journal._file import BaseJournalFileLock, get_lock_file

from harness.errors import HarnessError
from harness.journal import fsync_dir

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


class BatchedJournalBackend(JournalFileBackend):
    """Optuna's journal file, whose writes inside :meth:`batch` share one fsync.

    Every write reaches the file (the kernel) at once, as Optuna's own backend writes it: a
    process killed at any point loses nothing, and jobs reading the journal see every entry.
    Only the fsync is shared, so a machine crash can lose the writes not yet fsynced. The
    controller batches only writes that nothing outside the study acts on before their fsync: a
    trial's ask is fsynced before its run is submitted; its run ids, reports and tell wait for
    the next fsync (the next ask's, or the one before the controller waits for jobs or ends). A
    tell lost that way leaves the trial RUNNING: the next controller adopts it and tells it
    again from its run's record.
    """

    def __init__(self, file_path: str, lock_obj: BaseJournalFileLock | None = None) -> None:
        created = not os.path.exists(file_path)
        super().__init__(file_path, lock_obj=lock_obj)
        if created:
            fsync_dir(Path(file_path).parent)  # the new file's name is durable too
        self._depth = 0
        self._unsynced = False

    def read_logs(self, log_number_from: int) -> Generator[dict[str, Any], None, None]:
        # The study reads the journal before nearly every call; when the file has not grown
        # since the last read, there is nothing to open (the file is append-only).
        known = self._log_number_offset.get(log_number_from)
        if known is not None and os.stat(self._file_path).st_size == known:
            return
        yield from super().read_logs(log_number_from)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        data = "\n".join(json.dumps(log, separators=(",", ":")) for log in logs) + "\n"
        with get_lock_file(self._lock), open(self._file_path, "ab") as fh:
            fh.write(data.encode("utf-8"))
            fh.flush()
            if self._depth:
                self._unsynced = True
            else:
                os.fsync(fh.fileno())  # this write and any left unsynced before it
                self._unsynced = False

    @contextmanager
    def batch(self, sync: bool = True) -> Iterator[None]:
        """Writes within the block are not fsynced one by one; the outermost block fsyncs them
        when it ends, or with ``sync=False`` leaves them to the next fsync (:meth:`flush`, a
        later block's, a write outside a block)."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if sync and not self._depth:
                self.flush()

    def flush(self) -> None:
        """Fsync the writes not yet fsynced."""
        if not self._unsynced:
            return
        fd = os.open(self._file_path, os.O_WRONLY | os.O_APPEND)
        try:
            os.fsync(fd)  # flushes the file's every write, whichever descriptor made it
        finally:
            os.close(fd)
        self._unsynced = False


def _batching(study: optuna.Study) -> BatchedJournalBackend | None:
    backend = getattr(study._storage, "_backend", None)
    return backend if isinstance(backend, BatchedJournalBackend) else None


@contextmanager
def batched(study: optuna.Study, sync: bool = True) -> Iterator[None]:
    """The study's writes within the block share one fsync, at its end or (``sync=False``) at
    the next :func:`flush` or batch (a journal storage, :class:`BatchedJournalBackend`); a
    database commits each write as before."""
    backend = _batching(study)
    if backend is None:
        yield
        return
    with backend.batch(sync):
        yield


def flush(study: optuna.Study) -> None:
    """Fsync the study's writes that a ``batched(study, sync=False)`` block left unsynced."""
    backend = _batching(study)
    if backend is not None:
        backend.flush()


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
        backend = BatchedJournalBackend(str(path), lock_obj=RecordLock(str(path)))
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
