"""Sweep specs: YAML files under ``sweeps/`` loaded into frozen, validated dataclasses.

``load_spec(path)`` is the only way in; it reports every problem of a file at once in one
:class:`~harness.errors.SpecError`. No torch, mmcv or mmdet is imported here (planning must stay
instant); mmengine configs are read with ``mmengine.config`` only.
"""

from harness.spec.expand import cell_label, label_slug
from harness.spec.loader import load_spec, project_root
from harness.spec.model import (
    Axis,
    AxisValue,
    Case,
    Cases,
    Cell,
    Grid,
    OneAtATime,
    Profile,
    Resources,
    SweepSpec,
    TableSpec,
    Zip,
)

__all__ = [
    "Axis",
    "AxisValue",
    "Case",
    "Cases",
    "Cell",
    "Grid",
    "OneAtATime",
    "Profile",
    "Resources",
    "SweepSpec",
    "TableSpec",
    "Zip",
    "cell_label",
    "label_slug",
    "load_spec",
    "project_root",
]
