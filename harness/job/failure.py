"""How a training attempt failed, in classes that decide what to do next (docs/harness.md,
Failure classes): ``oom`` (out of memory: the same resources would fail the same way), ``nan``
(the loss is no longer finite: the same config would diverge again), ``error`` (any other
Python error: a bug to fix), ``requeues`` (the run was requeued more often than
``LORS_MAX_REQUEUES`` allows: a cluster that keeps preempting it). None of them is retried by
the harness; ``--retry`` is the user's choice, and ``harness.status`` says what each class asks
for."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from harness.records.schema import REQUEUE_EXITS

MAX_REQUEUES_ENV = "LORS_MAX_REQUEUES"
#: Requeues (preemptions, SLURM's own requeues; timeouts are capped at 3 by submitit) a run may
#: have before its next attempt fails it instead of training.
DEFAULT_MAX_REQUEUES = 20

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


def too_often_requeued(attempts: Sequence[Mapping[str, Any]]) -> str | None:
    """Why a run must not train again: the attempts that ended for a requeue reached
    ``LORS_MAX_REQUEUES``; None while under the cap."""
    raw = os.environ.get(MAX_REQUEUES_ENV, "")
    cap = int(raw) if raw.isdigit() else DEFAULT_MAX_REQUEUES
    ends = [a.get("exit") for a in attempts if a.get("exit") in REQUEUE_EXITS]
    if len(ends) < cap:
        return None
    counts = ", ".join(f"{c} {ends.count(c)}" for c in REQUEUE_EXITS if c in ends)
    return (
        f"requeued {len(ends)} times ({counts}), the cap {MAX_REQUEUES_ENV}={cap}: not trained "
        "again; a cluster that keeps preempting it needs another partition or QOS, then --retry"
    )
