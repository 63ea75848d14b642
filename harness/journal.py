"""The submission journal and the launch lock of a sweep folder (crash safety).

Before anything is submitted, the launcher appends a ``submitting`` entry naming a fresh token
and the runs of every unit (a SLURM array task or a local lane); after the executor answers, a
``submitted`` entry gives each unit's job id. A launcher killed between the two leaves a pending
token: the next launch asks the executor for jobs carrying that token (SLURM job name, local
process environment) and writes ``recovered`` (or ``abandoned`` when none exist), so no cell is
submitted twice. The journal is append-only JSON lines. Every entry is fsynced except
``submitted``: one lost to a machine crash leaves its token pending, which the next launch
resolves from the executor as after a killed launcher, and the next entry's fsync makes it
durable anyway (a process that dies after writing it loses nothing: the kernel has the line).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import LockError
from harness.layout import journal_path, lock_path
from harness.records.store import now_iso

logger = logging.getLogger(__name__)


def new_token() -> str:
    """A fresh submission token (10 hex characters)."""
    return uuid.uuid4().hex[:10]


@dataclass
class Submission:
    """One executor call as the journal knows it.

    Args:
        token: names the submission (in SLURM job names and local job environments).
        executor: ``debug``, ``local`` or ``slurm``.
        units: run ids per unit, in submission order.
        jobs: job id per unit once known (None while pending).
        closed: whether the submission was abandoned (nothing was found for it).
    """

    token: str
    executor: str
    units: list[list[str]]
    jobs: list[str] | None = None
    closed: bool = False
    time: str = ""

    @property
    def pending(self) -> bool:
        """Submitted or not, nobody has recorded the job ids yet."""
        return self.jobs is None and not self.closed


@dataclass
class JournalState:
    """The journal of a sweep folder, folded into submissions (oldest first)."""

    submissions: list[Submission] = field(default_factory=list)
    # run id -> (position of its latest submission with a job, executor, job id)
    _latest: dict[str, tuple[int, str, str]] = field(default_factory=dict, repr=False)
    _by_token: dict[str, tuple[int, Submission]] = field(default_factory=dict, repr=False)
    _open: dict[str, Submission] = field(default_factory=dict, repr=False)  # pending ones

    def job_of(self, run_id: str) -> tuple[str, str] | None:
        """``(executor, job id)`` of the latest known submission of a run."""
        found = self._latest.get(run_id)
        return (found[1], found[2]) if found else None

    def pending(self) -> list[Submission]:
        """Submissions whose job ids were never recorded."""
        return [s for s in self._open.values() if s.pending]

    def fold(self, entry: dict[str, Any]) -> None:
        """Apply one journal entry."""
        token, event = str(entry.get("token")), entry.get("event")
        if event == "submitting":
            sub = Submission(token, entry["executor"], entry["units"], time=entry.get("time", ""))
            self._by_token[token] = (len(self.submissions), sub)
            self.submissions.append(sub)
            self._open[token] = sub
        elif token in self._by_token and event in ("submitted", "recovered"):
            position, sub = self._by_token[token]
            sub.jobs = list(entry["jobs"])
            self._open.pop(token, None)
            for unit, job in zip(sub.units, sub.jobs, strict=False):
                if not job:  # "" marks a unit that recovery did not find
                    continue
                for rid in unit:
                    if self._latest.get(rid, (-1, "", ""))[0] <= position:
                        self._latest[rid] = (position, sub.executor, job)
        elif token in self._by_token and event == "abandoned":
            self._by_token[token][1].closed = True
            self._open.pop(token, None)


@dataclass
class _Cached:
    inode: int
    offset: int
    state: JournalState


_CACHE: dict[str, _Cached] = {}  # journal path -> what was folded up to which byte


def read_journal(sweep: Path) -> JournalState:
    """Fold the journal of a sweep folder (an absent journal is an empty one).

    The journal is append-only, so a process folds only the bytes added since its last read of
    the same file (a controller reads it for every trial; a full read each time grew with the
    study). The returned state may be updated by a later call: read it, do not keep it.
    """
    path = journal_path(sweep)
    try:
        st = path.stat()
    except FileNotFoundError:
        _CACHE.pop(str(path), None)
        return JournalState()
    cached = _CACHE.get(str(path))
    if cached is None or cached.inode != st.st_ino or st.st_size < cached.offset:
        cached = _CACHE[str(path)] = _Cached(st.st_ino, 0, JournalState())
    if st.st_size == cached.offset:
        return cached.state
    with path.open("rb") as fh:
        fh.seek(cached.offset)
        data = fh.read()
    end = data.rfind(b"\n") + 1  # a last line still being written waits for the next read
    for line in data[:end].splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:  # a torn line from a crash: ignore it
            logger.warning("journal %s: skipping a malformed line", path)
            continue
        cached.state.fold(entry)
    cached.offset += end
    return cached.state


# Entries whose loss to a machine crash recovery repairs: written, not fsynced (module docstring).
UNSYNCED_EVENTS = frozenset({"submitted"})


def append(sweep: Path, event: str, token: str, sync: bool = True, **fields: Any) -> None:
    """Append one entry to the journal; fsync it unless it is in :data:`UNSYNCED_EVENTS` or
    ``sync`` is False (and the folder too when this creates the journal, so that its name
    survives a crash)."""
    sweep.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"event": event, "token": token, "time": now_iso(), **fields})
    path = journal_path(sweep)
    created = not path.exists()
    with path.open("a") as fh:
        fh.write(line + "\n")
        fh.flush()
        if created or (sync and event not in UNSYNCED_EVENTS):
            os.fsync(fh.fileno())
    if created:
        fsync_dir(sweep)


def fsync_dir(folder: Path) -> None:
    """Make the names in a folder durable (a file just created in it)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def record_submitting(
    sweep: Path, token: str, executor: str, units: Sequence[Sequence[str]], sync: bool = True
) -> None:
    """Write-ahead entry: this token is about to submit these units (``sync=False``: written,
    not fsynced, for jobs that die with their launcher)."""
    append(sweep, "submitting", token, sync=sync, executor=executor, units=[list(u) for u in units])


@contextmanager
def sweep_lock(sweep: Path, timeout_s: float = 600.0) -> Iterator[None]:
    """Hold the sweep folder's lock; a second launch waits for the first to finish submitting.

    Raises:
        LockError: the lock was not free within ``timeout_s``.
    """
    sweep.mkdir(parents=True, exist_ok=True)
    with lock_path(sweep).open("a+") as fh:
        deadline = time.monotonic() + timeout_s
        told = False
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    logger.warning("another launch holds %s; waiting", lock_path(sweep))
                    told = True
                if time.monotonic() > deadline:
                    raise LockError(
                        f"{lock_path(sweep)}: still held by another launch after {timeout_s:.0f} s"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
