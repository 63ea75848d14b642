"""The converter's error: one line naming the file, the key and what to do."""

from __future__ import annotations

from lors.errors import LorsError


class ConvertError(LorsError):
    """A checkpoint or a config that cannot be converted (the message says why and what to do)."""
