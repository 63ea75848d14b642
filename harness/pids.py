"""Whether a process of this machine still runs: what a detached controller's follower and a
multi-process job's peer watch both ask of a pid they read from a file."""

from __future__ import annotations

import os
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie has ended: only its parent has yet to reap
    it; a process of another user counts as live)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True  # no /proc here: the signal said it exists
    return b") Z" not in stat
