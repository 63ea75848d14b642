"""A controller in the background (``--detach``) and a second invocation that follows it
(``--follow``): the controller's output goes to ``<sweep folder>/search.log``."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from harness.pids import alive
from harness.search.lock import LOCK_NAME

LOG_NAME = "search.log"


def holder(folder: Path) -> int | None:
    """The pid of the controller that drives the study in ``folder``, or None when none does."""
    path = folder / LOCK_NAME
    if not path.exists():
        return None
    with path.open("a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            text = fh.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    return None


def detach(argv: Sequence[str], folder: Path, wait_s: float = 30.0) -> int:
    """Start the same command without ``--detach`` in its own session, logging to the sweep
    folder; return once it holds the study (or has ended), with its pid."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / LOG_NAME
    args = [a for a in argv if a != "--detach"]
    with log.open("a") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "harness.search", *args],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # a closed terminal or Ctrl-C here leaves it running
        )  # fmt: skip
    deadline = time.monotonic() + wait_s
    while holder(folder) != proc.pid and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return proc.pid


def follow(folder: Path, poll_s: float = 0.5) -> int:
    """Print the background controller's log as it grows, until the controller ends."""
    log = folder / LOG_NAME
    pid = holder(folder)
    if pid is None:
        print(f"no controller drives this study now; its log is {log}" if log.exists() else
              "no controller drives this study now")  # fmt: skip
        return 0
    print(f"following controller {pid} ({log})")
    with log.open() as fh:
        while True:
            line = fh.readline()
            if line:
                print(line, end="")
                continue
            if holder(folder) is None and not alive(pid):  # its last lines follow the lock
                print(fh.read(), end="")
                return 0
            time.sleep(poll_s)
