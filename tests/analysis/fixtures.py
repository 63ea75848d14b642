"""Two fabricated sweeps with every kind of cell, shared by the golden, LaTeX and CLI tests.

- ``grid``: K x r (Table 6's shape), three seeds, smoke profile, parameters and AP with a Δ
  column; one cell partly failed, one running behind a stale seed, one never run.
- ``cases``: one row per case (Table 2/4's shape), every AP metric, a failed run and a run whose
  CocoMetric had no detections (null metrics); a row label that needs LaTeX escaping.

Run from a folder of the caller's choice (tests chdir to ``tmp_path``), so that record paths in
the provenance are relative and the golden files do not depend on where the test runs.
"""

from __future__ import annotations

from pathlib import Path

from analysis.layout import CellState, TableLayout
from analysis.table import Table, build_table
from harness.records.schema import METRIC_KEYS
from tests.analysis.factory import cell_state, missing_state, record_dict, run_id_of

K, R = "adaptive_groups", "adaptive_rank"
GRID_AXES = {K: ["1", "2", "3"], R: ["8", "16"]}
#: bbox_mAP per (K, r) and seed; None where the seed is not done.
GRID_AP = {
    ("1", "8"): (0.4210, 0.4250, 0.4230),
    ("1", "16"): (0.4260, 0.4240, 0.4290),
    ("2", "8"): (0.4280, 0.4300, 0.4270),
    ("2", "16"): (0.4330, 0.4310, None),
}
PARAMS_M = {"8": 33.2, "16": 34.61}


def grid_cells(root: Path) -> list[CellState]:
    """The ``grid`` sweep's cells, records written under ``root``."""
    cells = []
    for k in GRID_AXES[K]:
        for r in GRID_AXES[R]:
            roi = int(PARAMS_M[r] * 1e6) + 50_000 * int(k)
            params = {"total": 60_000_000 + roi, "roi_head": roi}
            for seed in range(3):
                coords = {K: k, R: r}
                aps = GRID_AP.get((k, r))
                if aps is not None and aps[seed] is not None:
                    raw = record_dict(
                        coords, seed, ap=aps[seed], params=params, sweep="grid", profile="smoke"
                    )
                    cells.append(cell_state(root, raw))
                elif aps is not None:
                    raw = record_dict(coords, seed, status="failed", sweep="grid", profile="smoke")
                    cells.append(cell_state(root, raw))
                elif r == "8":
                    status = "stale" if seed == 0 else "running"
                    raw = record_dict(
                        coords,
                        seed,
                        status="done" if seed == 0 else "running",
                        ap=0.41,
                        sweep="grid",
                        profile="smoke",
                        salt="old" if seed == 0 else "",
                    )
                    planned = run_id_of(raw["label"]) if seed == 0 else None
                    cells.append(cell_state(root, raw, status=status, run_id=planned))
                else:
                    cells.append(missing_state(coords, seed))
    return cells


def grid_table(root: Path) -> Table:
    """The ``grid`` table (smoke profile)."""
    lay = TableLayout.make(
        sweep="grid",
        title="Adaptive LORS: groups K against rank r",
        label="tab:grid",
        rows=K,
        columns=R,
        metrics=("params.roi_head", "bbox_mAP"),
        baseline={K: "1"},
        delta="bbox_mAP",
        profile="smoke",
    )
    return build_table(lay, GRID_AXES, grid_cells(root))


CASES = ("AdaMixer", "AdaMixer+LORS", "LORS_T only", "shared_only & 50%")


def cases_cells(root: Path) -> list[CellState]:
    """The ``cases`` sweep's cells, records written under ``root``."""
    out = []
    for i, case in enumerate(CASES):
        coords = {"method": case}
        if case == "LORS_T only":
            raw = record_dict(coords, None, status="failed", sweep="cases")
        else:
            ap = None if case.startswith("shared") else 0.42 + 0.004 * i
            params = {
                "total": 110_272_296 - 20_000_000 * i,
                "roi_head": 110_272_296 - 25_000_000 * i,
            }
            raw = record_dict(coords, None, ap=ap, params=params, sweep="cases")
        out.append(cell_state(root, raw))
    return out


def cases_table(root: Path) -> Table:
    """The ``cases`` table (paper profile)."""
    lay = TableLayout.make(
        sweep="cases",
        title="AdaMixer against AdaMixer+LORS, R50, 1x",
        label="tab:cases",
        rows="label",
        columns="metrics",
        metrics=("params.roi_head", *METRIC_KEYS),
    )
    return build_table(lay, {"method": list(CASES)}, cases_cells(root))
