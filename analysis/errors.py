"""Errors of the analysis: each names the file or key at fault, shows the bad value, lists choices.

``make_tables`` turns every one of them into a single line on stderr and exit code 2.
"""

from __future__ import annotations

from lors.errors import LorsError


class AnalysisError(LorsError):
    """Root of the errors the analysis raises on purpose."""


class TableSpecError(AnalysisError):
    """A sweep spec's ``table`` block is missing or asks for something the records cannot give."""


class CellNotFoundError(AnalysisError):
    """``explain`` was asked for a row or column the table does not have."""
