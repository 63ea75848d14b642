"""The LORS layers in pure PyTorch (no mmdet): LORS_T for learned weights, LORS_A for weights
generated from a query.

- ``StaticLORS``: a stack of N Linear maps as one shared weight + K rank-r pairs per layer.
- ``AdaptiveLORS``: N query-conditioned generators as one shared generator + per-layer r x r
  cores between learned outer factors; ``AdaptiveLORS(query, layer)`` returns
  ``GeneratedWeights`` with ``apply(name, x)`` and ``materialize(name)``.
- ``WeightSpec``: one generated weight; ``LORS_PARTS``: the shared-vs-private ablation modes;
  ``PATHS``: how LORS_A applies a weight (``lors.layers.paths``, chosen by ``lors.layers.cost``).

Every parameter is named ``lors_*``; the shared ones ``lors_shared*`` (see ``shared_and_private``).
"""

from lors.layers.adaptive import AdaptiveLORS
from lors.layers.generated import GeneratedWeights
from lors.layers.naming import is_lors_parameter, is_shared_parameter, shared_and_private
from lors.layers.static import StaticLORS
from lors.spec import LORS_PARTS, PATHS, WeightSpec

__all__ = [
    "LORS_PARTS",
    "PATHS",
    "AdaptiveLORS",
    "GeneratedWeights",
    "StaticLORS",
    "WeightSpec",
    "is_lors_parameter",
    "is_shared_parameter",
    "shared_and_private",
]
