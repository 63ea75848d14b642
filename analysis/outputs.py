"""Writing a table's files (``.tex``, ``.md``, ``.csv``, ``.provenance.json``) and its figures.

File names: ``<sweep>.<ext>`` for the paper profile, ``<sweep>.<profile>.<ext>`` for any other,
so a smoke table can never be mistaken for (or overwrite) a paper table.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from analysis.counts import depth_curves, rank_curve
from analysis.curves import depth_figure, pareto_figure, rank_figure, save
from analysis.entries import Table
from analysis.errors import AnalysisError
from analysis.pareto import sweep_points
from analysis.provenance import dumps, provenance
from analysis.render import render
from analysis.sweep import SweepInputs

logger = logging.getLogger(__name__)

EXTENSIONS = {"latex": "tex", "md": "md", "csv": "csv"}
SIDECAR = "provenance.json"
#: x ranges of the count curves: depths 1..12 (the paper's 6 and beyond) and ranks 2..64.
DEPTHS = tuple(range(1, 13))
RANKS = (2, 4, 8, 16, 32, 64)


def stem(table: Table) -> str:
    """``table6`` for the paper profile, ``table6.smoke`` for the smoke profile."""
    layout = table.layout
    return layout.sweep if layout.is_paper else f"{layout.sweep}.{layout.profile}"


def write_table(table: Table, out_dir: Path, formats: tuple[str, ...], source: str) -> list[Path]:
    """Write the table in each format and its provenance sidecar; return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = out_dir / f"{stem(table)}.{EXTENSIONS[fmt]}"
        path.write_text(render(table, fmt, source), encoding="utf-8")
        written.append(path)
    sidecar = out_dir / f"{stem(table)}.{SIDECAR}"
    sidecar.write_text(dumps(provenance(table, source)), encoding="utf-8")
    written.append(sidecar)
    return written


def read_sidecar(folder: Path, table: Table) -> dict[str, Any] | None:
    """The sidecar this table had in ``folder`` before, or None when there is none.

    Raises:
        AnalysisError: the file exists but is not valid JSON (names the file).
    """
    path = folder / f"{stem(table)}.{SIDECAR}"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise AnalysisError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise AnalysisError(f"{path}: not a provenance sidecar (no 'cells' list)")
    return data


def write_figures(inputs: SweepInputs, table: Table, fig_dir: Path) -> list[Path]:
    """The figures of a sweep: for a count table the depth and rank curves of its knobs, for a
    run table AP against decoder parameters (when some cells have both)."""
    name = stem(table)
    title = table.layout.sweep
    if not table.layout.is_paper:
        title += f" ({table.layout.profile} profile, not paper numbers)"
    if inputs.search is not None and inputs.runs_root is not None:
        from analysis.search_figures import grid_points, search_figures

        grid = grid_points(inputs.spec_path, table.layout.profile, inputs.runs_root)
        return search_figures(inputs.cells, inputs.search, grid, name, title, fig_dir)
    if table.layout.kind == "counts":
        paths = save(
            depth_figure(depth_curves(inputs.overrides, DEPTHS)), fig_dir / f"{name}-depth"
        )
        paths += save(rank_figure(rank_curve(inputs.overrides, RANKS)), fig_dir / f"{name}-rank")
        return paths
    points = sweep_points(inputs.cells)
    if not points:
        logger.info("%s: no done cell has both bbox_mAP and params.roi_head: no figure", name)
        return []
    return save(pareto_figure(points, title), fig_dir / f"{name}-pareto")
