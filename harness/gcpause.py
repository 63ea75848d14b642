"""Pausing Python's cycle collector while a block builds many lasting objects with few cycles."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector for a block that builds many lasting objects, few cycles.

    A plan of ten thousand cells holds a few hundred thousand containers (records, configs,
    paths); every full collection while they pile up walks all of them again, a large part of
    the planning time. Reference counting still frees what is dropped; cycles wait for the
    collector, which resumes after the block (nested blocks: after the outermost).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
