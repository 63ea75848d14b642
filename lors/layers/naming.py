"""Parameter names of the LORS layers: one prefix match tells LORS, shared and private apart.

Every parameter of ``StaticLORS`` and ``AdaptiveLORS`` has an attribute name starting with
``lors_``; the shared ones (the shared weight, its bias when ``parts="shared"``, the shared
generator) start with ``lors_shared``. Optimizer groups, checkpoint filters and the record's
``roi_head_shared`` / ``roi_head_private`` counts all use these two tests.
"""

from __future__ import annotations

from torch import nn

LORS_PREFIX = "lors_"
SHARED_PREFIX = "lors_shared"


def _attribute_names(qualified: str) -> list[str]:
    return qualified.split(".")


def is_lors_parameter(name: str) -> bool:
    """Whether the dotted parameter ``name`` belongs to a LORS layer (any part named ``lors_*``)."""
    return any(part.startswith(LORS_PREFIX) for part in _attribute_names(name))


def is_shared_parameter(name: str) -> bool:
    """Whether the dotted parameter ``name`` is shared by every layer of a LORS stack."""
    return any(part.startswith(SHARED_PREFIX) for part in _attribute_names(name))


def shared_and_private(module: nn.Module) -> tuple[int, int]:
    """Count the LORS parameters of ``module`` (any module containing LORS layers).

    Returns:
        ``(shared, private)``: elements of the shared LORS parameters, and of the other LORS
        parameters. Parameters outside LORS layers are in neither.
    """
    shared = private = 0
    for name, p in module.named_parameters():
        if is_shared_parameter(name):
            shared += p.numel()
        elif is_lors_parameter(name):
            private += p.numel()
    return shared, private
