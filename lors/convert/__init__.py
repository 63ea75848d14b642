"""Convert the authors' released checkpoints (mmdetection 2.x) to this project's layout.

    python -m lors.convert IN.pth OUT.pth [--from adamixer-release|lors-release] [--config CFG]

- :mod:`.names`: the releases' parameter names against ours, as data;
- :mod:`.permute`: the layout changes (``S`` transposed, the flattening order, the core order);
- :mod:`.mapping`: the plan for the model a config builds, the checks, both directions;
- :mod:`.reading`: safe loading (``weights_only``), recognising a layout, atomic writing.

docs/release-layouts.md writes the layouts down. Only torch and this project's model code are
needed: no mmdetection 2.x.
"""

from lors.convert.errors import ConvertError
from lors.convert.mapping import Entry, Plan, from_release, make_plan, problems, to_release
from lors.convert.names import RELEASES
from lors.convert.permute import Dims

__all__ = [
    "RELEASES",
    "ConvertError",
    "Dims",
    "Entry",
    "Plan",
    "from_release",
    "make_plan",
    "problems",
    "to_release",
]
