"""Benchmark: rebuild a table from 10,000 fabricated run records (target: under 3 s).

A generated sweep (rows x columns x seeds cells, a grid over two knobs of the knob contract) is
planned by the harness, a schema-2 record is written at every planned run folder (each with the
resolved paper config inside, as real records have), and then timed:

- ``read``: reading and validating every record (``RunRecord``);
- ``build``: the pure table build (seeds merged, bold, Δ column);
- ``render``: LaTeX (pandas Styler), Markdown, CSV and the provenance JSON;
- ``plan``: the harness's ``make_plan`` alone (what ``launch`` and ``status`` run);
- ``make_tables``: the whole CLI in process (spec, cell identities, records matched by label,
  build, write all files).

``--against REV`` also runs this benchmark as it is at git revision REV (a temporary worktree,
the same interpreter), in the same invocation, and prints each time as a ratio to REV's.

Usage: ``python benchmarks/bench_tables.py [--rows 50] [--columns 50] [--seeds 4] [--json]
[--against REV]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from analysis.layout import CellState  # noqa: E402
from analysis.make_tables import main as make_tables  # noqa: E402
from analysis.provenance import dumps, provenance  # noqa: E402
from analysis.render import render  # noqa: E402
from analysis.sweep import load_sweep  # noqa: E402
from analysis.table import build_table  # noqa: E402
from harness.plan import make_plan  # noqa: E402
from harness.records.record import read_run_record  # noqa: E402
from harness.spec import load_spec  # noqa: E402
from harness.spec.config import load_config  # noqa: E402
from tests.analysis.factory import record_dict  # noqa: E402

BASE = REPO / "configs" / "adamixer_lors" / "adamixer_lors_r50_1x_coco.py"
TARGET_S = 3.0


def write_sweep(root: Path, rows: int, columns: int, seeds: int) -> tuple[Path, Path, int]:
    """Write the spec and one record per planned cell; return (spec, runs root, record count)."""
    spec = root / "bench.yaml"
    spec.write_text(
        f"name: bench\nbase: {BASE}\nprofiles: {{paper: {{}}}}\nseeds: {list(range(seeds))}\n"
        "axes:\n  grid:\n"
        f"    - {{axis: adaptive_rank, key: model.roi_head.lors_cfg.adaptive_rank, "
        f"values: {list(range(1, rows + 1))}}}\n"
        f"    - {{axis: static_rank, key: model.roi_head.lors_cfg.static_rank, "
        f"values: {list(range(1, columns + 1))}}}\n"
        "table:\n  title: Benchmark\n  label: tab:bench\n  rows: adaptive_rank\n"
        "  columns: static_rank\n  metrics: [params.roi_head, bbox_mAP]\n"
        "  baseline: {adaptive_rank: '1'}\n  delta: bbox_mAP\n"
    )
    runs = root / "runs"
    config = load_config(BASE)
    plan = make_plan(load_spec(spec), runs_root=runs)
    for i, planned in enumerate(plan.cells):
        ap = 0.40 + (i % 97) / 1000
        raw = record_dict(
            planned.cell.coords,
            planned.cell.seed,
            ap=ap,
            sweep="bench",
            label=planned.cell.label,
            run_id=planned.run_id,
            run_dir=str(planned.run_dir.relative_to(runs)),
            params={"total": 100_000_000 + i, "roi_head": 35_000_000 + 1000 * (i // seeds)},
            schema=2,
            identity={
                "config": planned.config_digest,
                "data": planned.data_manifest,
                "code": plan.code.source_hash,
            },
        )
        raw["config"] = config
        planned.run_dir.mkdir(parents=True)
        (planned.run_dir / "record.json").write_text(json.dumps(raw, indent=1))
    return spec, runs, len(plan.cells)


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time of ``repeats`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run(rows: int, columns: int, seeds: int, repeats: int) -> dict[str, Any]:
    """Generate the sweep in a temporary folder and time each stage."""
    with tempfile.TemporaryDirectory(prefix="bench_tables-") as tmp:
        root = Path(tmp)
        spec, runs, count = write_sweep(root, rows, columns, seeds)
        inputs = load_sweep(spec, None, runs)
        paths = [c.record.path for c in inputs.cells if c.record is not None]
        t_read, records = timed(lambda: [read_run_record(p) for p in paths], repeats)
        cells = [
            CellState(r.label, r.coords, r.seed, r.status, r.run_id, record=r)
            for r in records
            if r is not None
        ]
        t_build, table = timed(
            lambda: build_table(inputs.layout, inputs.axis_values, cells), repeats
        )
        t_render, _ = timed(
            lambda: [render(table, f) for f in ("latex", "md", "csv")] + [dumps(provenance(table))],
            repeats,
        )
        t_plan, _ = timed(lambda: make_plan(load_spec(spec), runs_root=runs), repeats)
        args = [str(spec), "--runs-dir", str(runs), "--out", str(root / "out"), "--no-figures"]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            t_cli, code = timed(lambda: make_tables(args), repeats)
        assert code == 0, "make_tables failed on the generated sweep"
    return {
        "records": count,
        "table_entries": int(table.frame.size),
        "read_s": round(t_read, 3),
        "build_s": round(t_build, 3),
        "render_s": round(t_render, 3),
        "plan_s": round(t_plan, 3),
        "make_tables_s": round(t_cli, 3),
        "target_s": TARGET_S,
        "met": t_cli < TARGET_S,
    }


def against(rev: str, args: argparse.Namespace) -> dict[str, Any]:
    """This benchmark's result as the code was at ``rev`` (a temporary git worktree)."""
    with tempfile.TemporaryDirectory(prefix="bench_tables-rev-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "-q", "--detach", str(tree), rev], cwd=REPO, check=True
        )
        try:
            flags = ["--rows", str(args.rows), "--columns", str(args.columns)]
            flags += ["--seeds", str(args.seeds), "--repeats", str(args.repeats), "--json"]
            out = subprocess.run(
                [sys.executable, "benchmarks/bench_tables.py", *flags],
                cwd=tree,
                capture_output=True,
                text=True,
                check=True,
            )
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=REPO, check=False
            )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    """CLI: print the timings as a table, or JSON with ``--json``."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=50)
    p.add_argument("--columns", type=int, default=50)
    p.add_argument("--seeds", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", action="store_true")
    p.add_argument("--against", metavar="REV", help="also time git revision REV, side by side")
    args = p.parse_args()
    logging.disable(logging.WARNING)  # the plan warns that the COCO folders are absent here
    old = against(args.against, args) if args.against else None
    result = run(args.rows, args.columns, args.seeds, args.repeats)
    if old is not None:
        result["against"] = {"rev": args.against, **old}
    if args.json:
        print(json.dumps(result))
        return 0
    print(
        f"{result['records']} records -> {result['table_entries']} table entries "
        f"(median of {args.repeats})"
    )
    for key in ("read_s", "build_s", "render_s", "plan_s", "make_tables_s"):
        line = f"  {key.removesuffix('_s'):<12} {result[key]:7.3f} s"
        if old is not None and old.get(key):
            line += f"   {args.against}: {old[key]:7.3f} s   ratio {result[key] / old[key]:.2f}"
        print(line)
    verdict = "met" if result["met"] else "NOT met"
    print(f"  target: make_tables < {TARGET_S:.0f} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
