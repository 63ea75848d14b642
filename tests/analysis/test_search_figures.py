"""A search's tables and figures from records alone: pruned configs in the table with where they
stopped, the front marked, and three figures (AP against decoder parameters with the Table 6 grid
overlaid, the optimisation history with every run's evaluations, the knobs' importances)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from analysis.search_figures import grid_points, importances
from analysis.sweep import load_sweep
from harness.identity import code_version, resolve_cells
from harness.spec import load_spec
from tests.analysis.factory import record_dict, write_record

REPO = Path(__file__).resolve().parents[2]
RANKS = REPO / "sweeps" / "search" / "ranks.yaml"
TABLE6 = REPO / "sweeps" / "table6.yaml"
KEYS = {
    "adaptive_rank": "model.roi_head.lors_cfg.adaptive_rank",
    "adaptive_groups": "model.roi_head.lors_cfg.adaptive_groups",
    "static_rank": "model.roi_head.lors_cfg.static_rank",
    "parts": "model.roi_head.lors_cfg.parts",
}
# (rank, groups, static rank, parts) -> (AP, decoder params): made-up values for the figures
CONFIGS = {
    (4, 1, 4, "both"): (0.10, 300_000),
    (8, 2, 8, "both"): (0.20, 600_000),
    (12, 3, 8, "shared"): (0.18, 700_000),
    (16, (1, 2, 3), 16, "both"): (0.30, 1_200_000),
    (16, 1, 4, "private"): (0.25, 1_500_000),
}


def _trial_record(number: int, knobs: tuple, ap: float, params: int, status: str = "done") -> dict:
    values = {k: list(v) if isinstance(v, tuple) else v for k, v in zip(KEYS, knobs, strict=True)}
    shown = {k: "-".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in values.items()}
    case = ",".join(f"{k}={v}" for k, v in shown.items())
    record = record_dict(
        {"trial": case}, 0, status=status, ap=ap, sweep="ranks", profile="smoke",
        params={"total": 5_000_000, "roi_head": params}, label=f"trial={case},seed=0", schema=2,
    )  # fmt: skip
    record["overrides"] = {KEYS[k]: v for k, v in values.items()}
    record["search"] = {"study": "ranks/smoke", "trial": number}
    record["history"] = [
        {"epoch": None, "iter": it, "bbox_mAP": round(ap * it / 800, 4)} for it in (200, 400)
    ]
    if status == "done":
        record["history"].append({"epoch": None, "iter": 800, "bbox_mAP": ap})
    else:
        record["pruned"] = {"trial": number, "step": 400, "iter": 400, "value": ap / 2}
        record["attempts"][-1].update(exit="pruned")
    return record


def _grid_records(runs: Path) -> int:
    """Done records for Table 6's smoke cells under their real run ids (as the harness plans)."""
    spec = load_spec(TABLE6)
    _, _, cells = resolve_cells(spec, "smoke", code_version())
    for i, rc in enumerate(cells):
        record = record_dict(
            dict(rc.cell.coords), rc.cell.seed, sweep="table6", profile="smoke", schema=2,
            label=rc.cell.label, run_id=rc.run_id, identity=rc.identity.as_record(),
            ap=0.05 + 0.01 * i, params={"total": 5_000_000, "roi_head": 500_000 + 50_000 * i},
        )  # fmt: skip
        write_record(runs, record)
    return len({tuple(sorted(rc.cell.coords.items())) for rc in cells})


def _write_study(runs: Path) -> None:
    for number, (knobs, (ap, params)) in enumerate(CONFIGS.items()):
        write_record(runs, _trial_record(number, knobs, ap, params))
    write_record(runs, _trial_record(9, (8, 1, 16, "private"), 0.04, 400_000, status="pruned"))


def test_search_tables_and_figures_from_records(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _write_study(runs)
    grid_cells = _grid_records(runs)
    out, figs = tmp_path / "out", tmp_path / "figs"
    done = subprocess.run(
        [sys.executable, "analysis/make_tables.py", str(RANKS), "--profile", "smoke",
         "--runs-dir", str(runs), "--out", str(out), "--figures", str(figs), "--format", "md",
         "--show"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| r=")]
    assert len(rows) == len(CONFIGS) + 1, done.stdout
    (pruned,) = [r for r in rows if "parts=private" in r and "r=8" in r]
    assert "pruned" in pruned, pruned
    assert "pruned at step 400 (iteration 400) by trial 9; bbox_mAP 0.02 there" in done.stderr
    assert sum("(front)" in r for r in rows) == 3  # 0.10@0.3M, 0.20@0.6M, 0.30@1.2M
    for kind in ("pareto", "history", "importance"):
        for ext in ("png", "pdf"):
            path = figs / f"ranks.smoke-{kind}.{ext}"
            assert path.is_file() and path.stat().st_size > 1000, path
    assert grid_cells == 6 and len(grid_points(RANKS, "smoke", runs)) == grid_cells


def test_importances_rank_the_knob_that_moves_the_objective(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for number, rank in enumerate((4, 8, 12, 16, 4, 8, 12, 16)):
        parts = ("both", "shared")[number // 4]  # no effect on AP below
        knobs = (rank, 1, 8, parts)
        write_record(runs, _trial_record(number, knobs, rank / 40, 100_000 * rank))
    inputs = load_sweep(RANKS, "smoke", runs)
    scores = importances(inputs.cells, inputs.search)
    assert set(scores) == set(KEYS)
    assert max(scores, key=scores.get) == "adaptive_rank", scores  # type: ignore[arg-type]
