"""Provenance sidecars, ``explain`` lookups, and the regression check between two sidecars."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from analysis.errors import CellNotFoundError
from analysis.provenance import explain, find, provenance
from analysis.regression import compare
from tests.analysis.fixtures import cases_table, grid_table


@pytest.fixture
def grid(tmp_path: Path) -> dict[str, Any]:
    return provenance(grid_table(tmp_path / "runs"), "sweeps/grid.yaml")


def test_every_printed_cell_has_its_runs(grid: dict[str, Any]) -> None:
    assert len(grid["cells"]) == 3 * 2 * 3  # rows x column values x (params, AP, ΔAP)
    ap = find(grid, "1", "8/AP")
    assert ap["text"] == "42.3 ± 0.2 (3)" and ap["n"] == 3
    runs = [grid["runs"][m["label"]] for m in ap["runs"]]
    assert [r["seed"] for r in runs] == [0, 1, 2]
    assert [m["value"] for m in ap["runs"]] == [0.421, 0.425, 0.423]
    assert all(r["jobs"] and r["wandb"]["id"] == r["run_id"] for r in runs)
    assert all(r["record"].endswith("record.json") for r in runs)
    assert len(grid["runs"]) == 18  # every sweep cell once, however many columns show it
    assert len(grid["not_done"]) == 7


@pytest.mark.parametrize(
    ("row", "col", "metric", "group"),
    [
        ("1", "8/AP", "bbox_mAP", "8"),
        ("adaptive_groups=1", "8/bbox_mAP", "bbox_mAP", "8"),
        ("K=1", "AP (r=16)", "bbox_mAP", "16"),
        ("2", "16/ΔAP", "delta:bbox_mAP", "16"),
        ("2", "Decoder (M) (r=8)", "params.roi_head", "8"),
    ],
)
def test_find_accepts_the_names_a_reader_uses(
    grid: dict[str, Any], row: str, col: str, metric: str, group: str
) -> None:
    cell = find(grid, row, col)
    assert (cell["metric"], cell["group"]) == (metric, group)


def test_find_names_the_valid_choices(grid: dict[str, Any]) -> None:
    with pytest.raises(CellNotFoundError, match="row '7' is not in the table; valid: 1, 2, 3"):
        find(grid, "7", "8/AP")
    with pytest.raises(CellNotFoundError, match=r"column 'AP' is not in the table; valid: .*r=8"):
        find(grid, "1", "AP")  # ambiguous without the column value


def test_single_metric_per_value_accepts_the_value_alone(tmp_path: Path) -> None:
    data = provenance(cases_table(tmp_path / "runs"))
    assert find(data, "AdaMixer", "AP50")["metric"] == "bbox_mAP_50"


def test_explain_shows_the_stale_record_and_pending_runs(grid: dict[str, Any]) -> None:
    text = explain(grid, find(grid, "3", "8/AP"))
    assert text.splitlines()[0].endswith(": stale [stale]")
    assert "record      of an older run" in text and "whose value was 0.41" in text
    records = [line for line in text.splitlines() if line.startswith("    record      ")]
    assert len(records) == 4  # the stale one's "older run" line, then one path per seed


def _moved(data: dict[str, Any], row: str, col: str, mean: float, text: str) -> None:
    cell = find(data, row, col)
    cell["mean"], cell["text"] = mean, text


def test_regression_lists_moved_numbers_with_runs_and_commits(grid: dict[str, Any]) -> None:
    new = copy.deepcopy(grid)
    cell = find(new, "1", "8/AP")
    runs = [new["runs"][m["label"]] for m in cell["runs"]]
    replaced = runs[0]["run_id"]
    _moved(new, "1", "8/AP", cell["mean"] + 0.4, "42.7 ± 0.2 (3)")
    runs[0]["run_id"] = "abcdefabcdef"
    for run in runs:
        run["commit"] = "fedcba9876543210"
    changes = compare(grid, new)
    assert len(changes) == 1
    line = changes[0].line("grid")
    assert line.startswith("grid [1 | 8/bbox_mAP]: 42.3 ± 0.2 (3) -> 42.7 ± 0.2 (3) (+0.40)")
    assert f"runs -{replaced} +abcdefabcdef" in line and "commits 0123456789 -> fedcba9876" in line


def test_regression_tolerance_and_state_changes(grid: dict[str, Any]) -> None:
    new = copy.deepcopy(grid)
    cell = find(new, "1", "8/AP")
    _moved(new, "1", "8/AP", cell["mean"] + 0.04, "42.3 ± 0.2 (3)")
    assert compare(grid, new) == []  # the printed text did not change
    assert len(compare(grid, new, tolerance=0.01)) == 1
    assert compare(grid, new, tolerance=0.05) == []
    gone = find(new, "2", "8/AP")
    gone["mean"], gone["text"], gone["state"] = None, "*failed*", "failed"
    [change] = compare(grid, new, tolerance=0.05)
    assert change.after == "*failed*" and change.delta is None
