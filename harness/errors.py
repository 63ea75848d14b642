"""Errors of the harness: each names the file, key or flag at fault, shows the bad value and lists
the valid choices. The CLIs turn every one of them into a single line and exit code 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lors.errors import LorsError


class HarnessError(LorsError):
    """Root of the errors the harness raises on purpose."""


class SpecError(HarnessError):
    """A sweep spec breaks the rules; carries every problem found, not only the first.

    Args:
        path: the spec file.
        problems: ``(key, message)`` pairs; ``key`` is the dotted location in the spec
            (``axes.grid[0].values``) or ``""`` for the file as a whole.
    """

    def __init__(self, path: Path | str, problems: Sequence[tuple[str, str]]) -> None:
        self.path = Path(path)
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)
        parts = [f"{key}: {msg}" if key else msg for key, msg in self.problems]
        count = f"{len(parts)} problems: " if len(parts) > 1 else ""
        super().__init__(f"{self.path}: {count}" + "; ".join(parts))

    @property
    def keys(self) -> tuple[str, ...]:
        """The spec keys at fault, in the order found."""
        return tuple(key for key, _ in self.problems)


class ProfileError(HarnessError):
    """A SLURM profile under ``slurm/profiles/`` is missing or malformed."""


class ExecutorError(HarnessError):
    """An executor cannot be built or a submission failed (names the executor and the cause)."""


class LockError(HarnessError):
    """Another launch holds the sweep folder's lock and did not release it in time."""


class RecordError(HarnessError):
    """A ``record.json`` cannot be read or written (the message starts with its path)."""
