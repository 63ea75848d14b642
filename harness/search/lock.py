"""One controller per study: a lock file in the sweep folder, held for the controller's life."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.errors import HarnessError

LOCK_NAME = ".search.lock"


class SearchBusyError(HarnessError):
    """Another controller is driving this study."""


@contextmanager
def controller_lock(folder: Path) -> Iterator[None]:
    """One controller per study: a second one refuses in one line instead of racing it (the
    kernel drops the lock when its holder dies, so a killed controller never blocks the next)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / LOCK_NAME).open("a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            raise SearchBusyError(
                f"{folder}: another search controller (pid {holder}) drives this study; "
                "wait for it, or stop it and run this command again to resume"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
