"""How a training attempt failed, in classes that decide what to do next (docs/harness.md,
Failure classes): ``oom`` (out of memory: the same resources would fail the same way), ``nan``
(the loss is no longer finite: the same config would diverge again), ``error`` (any other
Python error: a bug to fix). None of them is retried by the harness; ``--retry`` is the user's
choice, and ``harness.status`` says what each class asks for."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

_OOM_SAID = ("out of memory", "can't allocate memory", "cannot allocate memory")


class NonFiniteLoss(FloatingPointError):
    """A training loss that is NaN or infinite; raised where it is first seen."""


def classify(exc: BaseException) -> str:
    """``oom``, ``nan`` or ``error`` for what a training attempt raised."""
    if isinstance(exc, NonFiniteLoss):
        return "nan"
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return "oom"  # torch.OutOfMemoryError (CUDA, MPS) without importing torch here
    said = str(exc).lower()
    if isinstance(exc, RuntimeError) and any(m in said for m in _OOM_SAID):
        return "oom"  # allocators that say so in a plain RuntimeError (torch's CPU allocator)
    return "error"


def check_losses(outputs: Any, iteration: int) -> None:
    """Raise :class:`NonFiniteLoss` when a loss of a training step's outputs (mmengine's
    ``log_vars``: name -> tensor or number) is NaN or infinite."""
    if not isinstance(outputs, Mapping):
        return
    for name, value in outputs.items():
        if "loss" not in name:
            continue
        number = float(value.item() if hasattr(value, "item") else value)
        if not math.isfinite(number):
            raise NonFiniteLoss(f"{name} is {number} at iteration {iteration}")
