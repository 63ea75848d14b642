"""Loading the checkpoints mmengine writes, under torch's ``weights_only`` loading (torch >= 2.6).

An mmengine checkpoint holds, besides tensors, numpy arrays and scalars and the message hub's
``HistoryBuffer`` objects, which the ``weights_only`` unpickler refuses. Rather than switching
that protection off, the loads of the project run with exactly these types allowed. A buffer
pickles its statistics methods as ``getattr(HistoryBuffer, name)``: ``getattr`` is allowed only
in that form, by a stand-in that refuses any other object.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

from lors.errors import LorsError


class CheckpointError(LorsError):
    """A checkpoint holds something outside what the project allows to unpickle."""


def _history_buffer_getattr(obj: object, name: str) -> Any:
    if obj is HistoryBuffer and not name.startswith("_"):
        return getattr(obj, name)
    raise CheckpointError(
        f"checkpoint asks for getattr({obj!r}, {name!r}); only public attributes of "
        "mmengine's HistoryBuffer are allowed"
    )


def _numpy_globals() -> list[Callable[..., Any] | tuple[Callable[..., Any], str]]:
    module = "numpy._core.multiarray" if hasattr(np, "_core") else "numpy.core.multiarray"
    multiarray = importlib.import_module(module)
    allowed: list[Callable[..., Any] | tuple[Callable[..., Any], str]] = [np.ndarray, np.dtype]
    # numpy 1.x pickles these under numpy.core, numpy 2.x under numpy._core: accept both
    for name in ("_reconstruct", "scalar"):
        obj = getattr(multiarray, name)
        allowed += [(obj, f"numpy.core.multiarray.{name}"), (obj, f"numpy._core.multiarray.{name}")]
    allowed += [type(np.dtype(t)) for t in (np.float64, np.float32, np.int64, np.int32, np.bool_)]
    return allowed


def allowed_globals() -> list[Callable[..., Any] | tuple[Callable[..., Any], str]]:
    """What an mmengine checkpoint may hold beyond torch's defaults (for ``safe_globals``)."""
    return [
        *_numpy_globals(),
        HistoryBuffer,
        (_history_buffer_getattr, "builtins.getattr"),
    ]


@contextlib.contextmanager
def mmengine_checkpoints_allowed() -> Iterator[None]:
    """Within this block, ``torch.load`` (weights_only) accepts mmengine's own checkpoints."""
    with torch.serialization.safe_globals(allowed_globals()):
        yield


def load_checkpoint_file(path: str, map_location: str | Callable | None = "cpu") -> dict:
    """Load a checkpoint the project wrote (model, optimizer, schedulers, message hub, meta).

    Args:
        path: the ``.pth`` file.
        map_location: as for ``torch.load``.

    Returns:
        The checkpoint dict.
    """
    with mmengine_checkpoints_allowed():
        return torch.load(path, map_location=map_location, weights_only=True)
