"""Mixed precision for the custom autograd functions of LORS_A.

Autocast does not reach inside ``torch.autograd.Function``; the fused and factorized kernels ask
here which dtype autocast would have used, run their products in it with autocast off, and return
gradients in the dtype of each input.
"""

from __future__ import annotations

from functools import reduce

import torch


def compute_dtype(*tensors: torch.Tensor | None) -> torch.dtype:
    """The dtype the products run in: autocast's when it is on for the tensors' device, else the
    promotion of the inputs (so fp32 parameters and fp16 activations compute in fp32)."""
    present = [t for t in tensors if t is not None]
    device_type = present[0].device.type
    if torch.is_autocast_enabled(device_type):
        return torch.get_autocast_dtype(device_type)
    return reduce(torch.promote_types, (t.dtype for t in present))


def cast(t: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    """``t`` in ``dtype`` (no copy when it already is); None stays None."""
    return None if t is None else t.to(dtype)


def grad_like(grad: torch.Tensor | None, like: torch.Tensor | None) -> torch.Tensor | None:
    """``grad`` in the dtype of the input it belongs to (None when that input needs none)."""
    if grad is None or like is None:
        return None
    return grad.to(like.dtype)
