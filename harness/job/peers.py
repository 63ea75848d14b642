"""The processes of one multi-process job watch each other, so one that dies does not leave the
rest hung in a collective (gloo and NCCL wait 30 minutes before they give up) with rank 0's
heartbeat still saying the run is alive.

Each process beats into ``<run folder>/.ranks/rank-<r>`` (its job, pid, node, a counter and its
state) every ``BEAT_S``; a thread in each reads the others'. A peer that stopped beating for
``LORS_PEER_SILENCE_S`` (a kill -9, a stop, a lost node) or that left with an error ends the
job: rank 0 closes the attempt (``killed``, ``stalled`` or ``failed``, naming the rank), ends a
silent peer on its own node, and every process exits. A peer that left because the job was
signalled for requeue, or finished, is no fault. Only changes seen since this process began
count, so the files an earlier attempt left are never read as news.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

from harness.pids import alive
from harness.records.store import last_checkpoint
from harness.records.writer import RecordWriter

logger = logging.getLogger(__name__)
BEAT_S = 2.0
SILENCE_ENV = "LORS_PEER_SILENCE_S"
DEFAULT_SILENCE_S = 20.0
EXIT_CODE = 3  # a process ended because a peer did
_WATCH: PeerWatch | None = None


def silence_s() -> float:
    """Seconds without a peer's beat after which it is judged gone (``LORS_PEER_SILENCE_S``)."""
    try:
        return max(3 * BEAT_S, float(os.environ.get(SILENCE_ENV) or DEFAULT_SILENCE_S))
    except ValueError:
        return DEFAULT_SILENCE_S


def peer_fault() -> tuple[str, str] | None:
    """``(cause, detail)`` when this process raised because a peer is gone (a collective broke:
    gloo raises at once when a peer's socket closes), else None."""
    return _WATCH.gone() if _WATCH is not None else None


def leaving() -> None:
    """This process leaves on a requeue signal: its peers must not take its silence as a fault."""
    if _WATCH is not None:
        _WATCH.leave("signalled")


class PeerWatch:
    """Beat for this process and watch its peers while the block runs (a no-op for one process).

    Args:
        run_dir: the run folder (shared by every node of the job).
        rank: this process's global rank.
        world: the job's number of processes.
        job_id: the job's id (in the beat, for the reader of the files).
        writer: rank 0's record writer; None on the other ranks.
    """

    def __init__(
        self, run_dir: Path, rank: int, world: int, job_id: str, writer: RecordWriter | None
    ) -> None:
        self.folder = run_dir / ".ranks"
        self.rank, self.world, self.job_id, self.writer = rank, world, job_id, writer
        self.node = socket.gethostname()
        self.state = "running"
        self._count = 0
        self._stalled_pid = 0  # a silent peer on this node, ended once the record is closed
        self._stop = threading.Event()
        # rank -> (its beat as last read, when that changed, whether it changed since we began)
        self._seen: dict[int, tuple[str, float, bool]] = {}
        self._thread = threading.Thread(target=self._run, name="peer-watch", daemon=True)

    def __enter__(self) -> PeerWatch:
        global _WATCH
        if self.world > 1:
            self.folder.mkdir(parents=True, exist_ok=True)
            began = time.monotonic()
            self._seen = {r: (self._read(r), began, False) for r in self._peers()}
            self._beat()
            _WATCH = self
            self._thread.start()
        return self

    def __exit__(self, exc_type: Any, *rest: object) -> None:
        global _WATCH
        if self.world > 1:
            if self.state == "running":  # a signal's SystemExit on its way out, or a return
                self.leave("done" if exc_type is None else "signalled")
            self._stop.set()
            self._thread.join(timeout=2 * BEAT_S)
            _WATCH = None

    def leave(self, state: str) -> None:
        """Say how this process leaves: ``done``, ``failed`` or ``signalled``."""
        self.state = state
        if self.world > 1:
            self._beat()

    def _peers(self) -> list[int]:
        return [r for r in range(self.world) if r != self.rank]

    def _path(self, rank: int) -> Path:
        return self.folder / f"rank-{rank}"

    def _read(self, rank: int) -> str:
        try:
            return self._path(rank).read_text()
        except OSError:
            return ""

    def _beat(self) -> None:
        self._count += 1
        text = f"{self.job_id} {os.getpid()} {self.node} {self._count} {self.state}\n"
        tmp = self.folder / f".rank-{self.rank}.tmp"
        try:
            tmp.write_text(text)
            os.replace(tmp, self._path(self.rank))
        except OSError as exc:  # a full disk must not end the run; the peers may judge it
            logger.warning("peer beat %s: %s", self._path(self.rank), exc)

    def _run(self) -> None:
        while not self._stop.wait(BEAT_S):
            if self.state != "running":
                continue
            self._beat()
            fault = self._fault()
            if fault is not None:
                self._end(*fault)

    def _fault(self) -> tuple[int, str, str] | None:
        """``(rank, cause, detail)`` of the first peer that is gone, else None."""
        now = time.monotonic()
        for r in self._peers():
            beat = self._read(r)
            old, since, fresh = self._seen[r]
            if beat != old:  # a beat this process saw happen: this attempt's peer
                self._seen[r] = (beat, now, True)
                since, fresh = now, True
            fields = beat.split()
            state = fields[4] if fresh and len(fields) == 5 else "running"
            if state == "failed":
                return r, "failed", f"rank {r} of job {self.job_id} raised; see its log"
            silent = now - since
            if state == "done" and r == 0 and silent > silence_s():
                # rank 0 finished (or its run was pruned) and this one still waits: for what
                # rank 0 will never send
                return r, "left", f"rank 0 of job {self.job_id} finished {silent:.0f} s ago"
            if state in ("done", "signalled"):
                continue
            if fresh and self._here(fields) and not alive(pid := int(fields[1])):
                return r, "killed", f"rank {r} of job {self.job_id} died: its process {pid} is gone"
            if silent > silence_s():
                return r, *self._silent(r, fields, silent)
        return None

    def _here(self, fields: list[str]) -> bool:
        """Whether a beat comes from a process on this node (whose pid can be asked)."""
        return len(fields) == 5 and fields[2] == self.node and fields[1].isdigit()

    def gone(self) -> tuple[str, str] | None:
        """The first peer that is gone, as ``(cause, detail)``: at once for peers on this node
        (their pids), else after waiting up to the silence limit for a remote one to fall
        silent; None when every peer is well."""
        deadline = time.monotonic() + silence_s() + BEAT_S
        while True:
            fault = self._fault()
            if fault is not None and fault[1] != "left":
                return fault[1], fault[2]
            remote = any(not self._here(self._read(r).split()) for r in self._peers())
            if not remote or time.monotonic() > deadline:
                return None
            time.sleep(BEAT_S)

    def _silent(self, rank: int, fields: list[str], silent: float) -> tuple[str, str]:
        """How a silent peer ended: ``killed`` when its process is gone (or on another node,
        where nobody here can ask), else ``stalled``: alive but silent (stopped, or wedged
        outside Python), and ended by :meth:`_end` once the record says so."""
        where = f"rank {rank} of job {self.job_id} silent for {silent:.0f} s"
        if not self._here(fields):
            return "killed", f"{where} (on {fields[2] if len(fields) == 5 else '?'})"
        pid = int(fields[1])
        if not alive(pid):
            return "killed", f"{where}: its process {pid} is gone"
        self._stalled_pid = pid
        return "stalled", f"{where}: its process {pid} lived; killed"

    def _end(self, rank: int, cause: str, detail: str) -> None:
        """End this process: the collective it waits in would not return (rank 0 first closes
        the attempt, naming the peer; the launcher learns the rest when the job ends)."""
        logger.error("%s; this process (rank %d) ends too", detail, self.rank)
        if self.writer is not None and self.writer.attempt_open:
            ckpt = last_checkpoint(self.writer.path.parent)
            if cause == "failed":
                self.writer.finish("failed", ckpt, error_tail=detail, failure="error")
            else:
                self.writer.finish(cause, ckpt, detail=detail)
        if cause == "stalled" and self._stalled_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._stalled_pid, signal.SIGKILL)
        self.state = "done" if cause == "left" else "signalled"
        self._beat()
        os._exit(0 if cause == "left" else EXIT_CODE)
