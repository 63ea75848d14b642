"""Figures: column-width PNG and PDF files, the same bytes for the same inputs, a Pareto front
that keeps exactly the undominated cells."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from analysis.counts import depth_curves, rank_curve
from analysis.curves import COLUMN_WIDTH_IN, depth_figure, pareto_figure, rank_figure, save
from analysis.layout import CellState
from analysis.pareto import Point, pareto_front, sweep_points
from tests.analysis.factory import cell_state, missing_state, record_dict

RELEASE = {"model.roi_head.num_groups": 2, "model.roi_head.in_points": 64}


def _png_size(path: Path) -> tuple[int, int]:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


def test_figures_are_column_width_and_deterministic(tmp_path: Path) -> None:
    figures = {
        "depth": lambda: depth_figure(depth_curves(RELEASE, range(1, 13))),
        "rank": lambda: rank_figure(rank_curve(RELEASE, [2, 4, 8, 16, 32, 64])),
        "pareto": lambda: pareto_figure(
            [Point("K=1, r=8", 33.1, 42.1, 0.2, 3), Point("plain", 110.3, 42.7, None, 1)], "demo"
        ),
    }
    for name, make in figures.items():
        first = save(make(), tmp_path / "a" / name)
        second = save(make(), tmp_path / "b" / f"{name}.smoke")
        assert [p.suffix for p in first] == [".png", ".pdf"]
        width, _ = _png_size(first[0])
        assert width == pytest.approx(COLUMN_WIDTH_IN * 300, abs=2)
        for a, b in zip(first, second, strict=True):
            assert a.read_bytes() == b.read_bytes(), f"{name}{a.suffix} differs between two runs"


def test_pareto_front_keeps_the_undominated() -> None:
    points = [
        Point("a", 30.0, 40.0, None, 1),
        Point("b", 32.0, 42.0, None, 1),
        Point("c", 33.0, 41.0, None, 1),  # dominated by b
        Point("d", 35.0, 42.0, None, 1),  # dominated by b (same AP, more parameters)
        Point("e", 40.0, 43.0, None, 1),
    ]
    assert [p.label for p in pareto_front(points)] == ["a", "b", "e"]


def test_sweep_points_merge_seeds_and_skip_cells_without_numbers(tmp_path: Path) -> None:
    cells: list[CellState] = [
        cell_state(tmp_path, record_dict({"r": "8"}, s, ap=ap, params={"roi_head": 9_000_000}))
        for s, ap in enumerate((0.40, 0.42))
    ]
    cells.append(missing_state({"r": "16"}, 0))
    [point] = sweep_points(cells)
    assert point.label == "8" and point.n == 2
    assert point.ap == pytest.approx(41.0) and point.params_m == pytest.approx(9.0)
