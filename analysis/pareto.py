"""AP against decoder parameters for the cells of a sweep, and their Pareto front (pure).

One point per cell of the sweep (seeds merged: mean AP, its standard deviation), from done
records that hold both ``bbox_mAP`` and ``params.roi_head``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analysis.layout import CellState
from analysis.table import sample_std

AP_KEY = "bbox_mAP"
PARAMS_KEY = "params.roi_head"


@dataclass(frozen=True)
class Point:
    """One cell of a sweep: decoder size (millions) and AP (percent), seeds merged."""

    label: str
    params_m: float
    ap: float
    ap_std: float | None
    n: int


def sweep_points(cells: Sequence[CellState]) -> list[Point]:
    """The points of a sweep's done cells, in spec order (a cell's seeds averaged)."""
    groups: dict[str, list[CellState]] = {}
    for cell in cells:
        groups.setdefault(cell.row_title, []).append(cell)
    points = []
    for label, members in groups.items():
        pairs = [
            (c.value(PARAMS_KEY), c.value(AP_KEY))
            for c in members
            if c.value(PARAMS_KEY) is not None and c.value(AP_KEY) is not None
        ]
        if not pairs:
            continue
        aps = [100.0 * float(ap) for _, ap in pairs if ap is not None]
        params = sum(float(p) for p, _ in pairs if p is not None) / len(pairs) / 1e6
        points.append(Point(label, params, sum(aps) / len(aps), sample_std(aps), len(aps)))
    return points


def pareto_front(points: Sequence[Point]) -> list[Point]:
    """The points no other point beats on both axes (fewer or equal parameters and higher or
    equal AP, one of them strictly), sorted by parameters."""
    front: list[Point] = []
    for p in sorted(points, key=lambda p: (p.params_m, -p.ap)):
        if not front or p.ap > front[-1].ap:
            front.append(p)
    return front
