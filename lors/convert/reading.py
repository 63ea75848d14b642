"""Reading a checkpoint without running code from it, telling which layout it holds, and
writing the converted one atomically.

``torch.load`` runs with ``weights_only=True``: tensors, plain containers and numbers only, plus
the numpy scalar and array types that mmcv 1.x puts in a checkpoint's ``meta``. Anything else is
refused, not unpickled.
"""

from __future__ import annotations

import importlib
import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lors.convert.errors import ConvertError
from lors.convert.names import MARKERS, OURS_MARKER, RELEASES


def _numpy_globals() -> list[Any]:
    module = "numpy._core.multiarray" if hasattr(np, "_core") else "numpy.core.multiarray"
    multiarray = importlib.import_module(module)
    allowed: list[Any] = [np.ndarray, np.dtype]
    for name in ("_reconstruct", "scalar"):
        obj = getattr(multiarray, name)
        # numpy 1.x pickles these under numpy.core, numpy 2.x under numpy._core
        allowed += [(obj, f"numpy.core.multiarray.{name}"), (obj, f"numpy._core.multiarray.{name}")]
    allowed += [type(np.dtype(t)) for t in (np.float64, np.float32, np.int64, np.int32, np.bool_)]
    return allowed


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:160] if text else type(err).__name__


def _unpickler_reason(err: BaseException) -> str:
    """What torch's weights_only loader met, from its message (whose first lines are advice,
    the same for every file): e.g. ``Unsupported global: GLOBAL pkg.Class``."""
    text = str(err)
    marker = "WeightsUnpickler error:"
    if marker not in text:
        return _first_line(err)
    after = text.split(marker, 1)[1].strip()
    reason = after.splitlines()[0] if after else ""
    return reason.split(" was not an allowed global")[0][:160]


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of the checkpoint at ``path`` (its ``state_dict``, or the file itself when it
    is a plain mapping of tensors); ``module.`` prefixes (a DDP wrapper's) removed.

    Raises:
        ConvertError: the file is missing, truncated, not a torch checkpoint, holds objects the
            safe loader refuses, or holds no state dict.
    """
    if not path.is_file():
        raise ConvertError(f"{path}: no such file")
    try:
        with torch.serialization.safe_globals(_numpy_globals()):
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        reason = _unpickler_reason(err)
        if "Unsupported global" in reason:
            raise ConvertError(
                f"{path}: refused by torch's weights_only loader ({reason}): it holds objects "
                "beyond tensors and plain data, and is not unpickled; re-save its state_dict"
            ) from None
        raise ConvertError(
            f"{path}: not a readable torch checkpoint ({reason}): is the download complete?"
        ) from None
    except (RuntimeError, EOFError, ValueError, OSError, KeyError) as err:
        raise ConvertError(
            f"{path}: not a readable torch checkpoint ({_first_line(err)}): "
            "is the download complete?"
        ) from None
    state = raw.get("state_dict", raw) if isinstance(raw, Mapping) else None
    if not isinstance(state, Mapping) or not state:
        raise ConvertError(f"{path}: holds no state dict (expected a dict with 'state_dict')")
    bad = [k for k, v in state.items() if not isinstance(k, str) or not torch.is_tensor(v)]
    if bad:
        raise ConvertError(f"{path}: state_dict entry {bad[0]!r} is not a named tensor")
    return {k.removeprefix("module."): v for k, v in state.items()}


def detect(path: Path, state: Mapping[str, torch.Tensor]) -> str:
    """Which release ``state`` comes from.

    Raises:
        ConvertError: ``state`` is already in this project's layout, or from neither release.
    """
    for release in RELEASES:
        if MARKERS[release] in state:
            return release
    if any(k.startswith(OURS_MARKER) for k in state):
        raise ConvertError(
            f"{path}: already in this project's layout (key {OURS_MARKER}...): "
            "evaluate it as it is with python -m lors.engine.test CONFIG CHECKPOINT"
        )
    raise ConvertError(
        f"{path}: neither an AdaMixer nor an AdaMixer+LORS release checkpoint "
        f"(no key {MARKERS['adamixer-release']!r} or {MARKERS['lors-release']!r})"
    )


def save_atomically(path: Path, checkpoint: Mapping[str, Any]) -> None:
    """Write ``checkpoint`` to ``path`` through a temporary file in the same folder, so a
    failure leaves nothing behind and a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(dict(checkpoint), tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
