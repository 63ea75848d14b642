"""The ``--device`` check the speed benchmarks share: a device they cannot run on is one line on
stderr and exit code 2, before anything is built."""

from __future__ import annotations


def device_problem(device: str) -> str | None:
    """Why ``device`` cannot run the benchmark; None when it can (cpu, or cuda with CUDA)."""
    import torch

    if device == "cpu" or (device == "cuda" and torch.cuda.is_available()):
        return None
    return f"--device {device!r} is not available: use cpu or cuda (with CUDA)"
