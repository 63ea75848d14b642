"""The project's error tree: every error a user can cause derives from ``LorsError``.

Messages state the rule, show the bad value and say the fix or list the valid choices. CLIs turn
a ``LorsError`` into one line on stderr and exit code 2, without a traceback.
"""

from __future__ import annotations


class LorsError(Exception):
    """Root of every error the project raises on purpose."""


class ConfigError(LorsError, ValueError):
    """A layer, model or config argument is invalid (names the argument, the value, the range)."""


class ShapeError(LorsError, ValueError):
    """A tensor given to a layer has the wrong shape (names the argument, shows the shape got and
    the shape expected)."""
