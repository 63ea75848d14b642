"""The job's signs of life in its record: a heartbeat thread, and the termination signals it got.

A process killed at any moment (kill -9, the OOM killer, a lost node) cannot close its attempt;
the harness closes it when it notices, at the last heartbeat, which is at most ``HEARTBEAT_S``
before the process died. SLURM sends SIGTERM before it kills a job (scancel, scontrol requeue,
a preemption that cancels or requeues); submitit ignores SIGTERM, so training goes on until the
SIGKILL that follows (KillWait, 30 s by default). The signal is noted in the attempt at once: it
tells a cancelled job from a killed process where no ``sacct`` can say.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from harness.records.writer import RecordWriter

logger = logging.getLogger(__name__)
HEARTBEAT_S = 5.0
# Under these submitit executors SIGTERM is submitit's to handle (it logs and ignores it).
_SUBMITIT_JOBS = ("slurm", "local")


class Heartbeat:
    """Saves the record every ``interval_s`` while its attempt is open, and at once after
    :meth:`wake` (a signal was noted). A failing save is logged: a heartbeat never ends a run.

    Args:
        writer: the run's record writer.
        interval_s: seconds between saves.
    """

    def __init__(self, writer: RecordWriter, interval_s: float = HEARTBEAT_S) -> None:
        self.writer = writer
        self.interval_s = interval_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="record-heartbeat", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._stop.is_set() or not self.writer.attempt_open:
                continue
            try:
                self.writer.save()
            except Exception as exc:
                logger.warning("heartbeat of %s: %s", self.writer.path, exc)

    def wake(self) -> None:
        """Save now (callable from a signal handler)."""
        self._wake.set()

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)


@contextmanager
def noting_sigterm(writer: RecordWriter, heartbeat: Heartbeat) -> Iterator[None]:
    """Within this block a SIGTERM is noted in the open attempt, then handed to the handler that
    was there (submitit's). Outside a submitit job, or off the main thread, nothing changes."""
    in_job = os.environ.get("SUBMITIT_EXECUTOR") in _SUBMITIT_JOBS
    if not in_job or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> Any:
        writer.note_signal("SIGTERM")
        heartbeat.wake()
        if callable(previous):
            return previous(signum, frame)
        if previous == signal.SIG_DFL:  # nobody meant to survive it: terminate as before
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
        return None

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
