"""``make_tables`` end to end: a real spec, the harness's real plan, records at the planned run
folders; placeholders on stderr, --strict, explain, --check, and every kind of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from analysis.make_tables import main
from harness.plan import make_plan
from harness.spec import load_spec
from tests.analysis.factory import record_dict

REPO = Path(__file__).resolve().parents[2]
BASE = REPO / "configs" / "smoke" / "adamixer_lors_smoke.py"
SPEC = f"""\
name: demo
base: {BASE}
profiles:
  smoke: {{}}
seeds: [0, 1]
axes:
  grid:
    - {{axis: adaptive_groups, key: model.roi_head.lors_cfg.adaptive_groups, values: [1, 2]}}
    - {{axis: adaptive_rank, key: model.roi_head.lors_cfg.adaptive_rank, values: [8, 16]}}
"""
TABLE = """\
table:
  title: Demo
  label: tab:demo
  rows: adaptive_groups
  columns: adaptive_rank
  metrics: [{metrics}]
"""
#: (K, r, seed) -> record status and AP; cells not listed stay new (no record).
RUNS: dict[tuple[str, str, int], tuple[str, float]] = {
    ("1", "8", 0): ("done", 0.30),
    ("1", "8", 1): ("done", 0.32),
    ("1", "16", 0): ("done", 0.35),
    ("1", "16", 1): ("done", 0.33),
    ("2", "8", 0): ("done", 0.36),
    ("2", "8", 1): ("running", 0.0),
    ("2", "16", 0): ("failed", 0.0),
}


def _errors(stderr: str) -> list[str]:
    """The error lines of stderr (the plan may also log a warning, e.g. a missing data folder),
    after checking that no traceback got through."""
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("make_tables: error: ")]


@pytest.fixture
def sweep(tmp_path: Path) -> dict[str, Any]:
    """A spec, its runs root with records where the plan expects them, and the output folders."""
    spec = tmp_path / "demo.yaml"
    spec.write_text(SPEC + TABLE.format(metrics="params.roi_head, bbox_mAP"))
    runs = tmp_path / "runs"
    plan = make_plan(load_spec(spec), "smoke", runs_root=runs)
    by_key = {
        (c.cell.coords["adaptive_groups"], c.cell.coords["adaptive_rank"], c.cell.seed): c
        for c in plan.cells
    }
    records = {}
    for key, (status, ap) in RUNS.items():
        planned = by_key[key]
        raw = record_dict(
            planned.cell.coords,
            planned.cell.seed,
            status=status,
            ap=ap,
            sweep="demo",
            profile="smoke",
            label=planned.cell.label,
            run_id=planned.run_id,
            run_dir=str(planned.run_dir.relative_to(runs)),
        )
        path = planned.run_dir / "record.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(raw))
        records[key] = path
    args = [
        str(spec),
        "--profile",
        "smoke",
        "--runs-dir",
        str(runs),
        "--out",
        str(tmp_path / "out"),
        "--figures",
        str(tmp_path / "fig"),
        "--no-figures",  # figures cost a second per call: only the first test draws them
    ]
    return {
        "spec": spec,
        "runs": runs,
        "plan": by_key,
        "records": records,
        "args": args,
        "tmp": tmp_path,
    }


def test_tables_figures_and_placeholders(sweep: dict[str, Any], capsys: Any) -> None:
    assert main(sweep["args"][:-1]) == 0
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and "demo (smoke [not paper numbers])" in out
    folder = sweep["tmp"] / "out"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"demo.smoke.{e}" for e in ("csv", "md", "provenance.json", "tex")]
    assert (sweep["tmp"] / "fig" / "demo.smoke-pareto.png").stat().st_size > 10_000
    md = (folder / "demo.smoke.md").read_text()
    assert "| 1 | 30.00 | 31.0 ± 1.4 (2) | 30.00 | 34.0 ± 1.4 (2) |" in md  # seeds merged
    assert "| 2 | 30.00 (1/2) | 36.0 (1/2) | *failed* | *failed* |" in md
    for key, status in (
        (("2", "8", 1), "running"),
        (("2", "16", 0), "failed"),
        (("2", "16", 1), "missing"),
    ):
        assert f"{status} (run {sweep['plan'][key].run_id})" in err


def test_strict_fails_while_cells_are_not_done(sweep: dict[str, Any]) -> None:
    assert main([*sweep["args"], "--strict"]) == 1


def test_explain_prints_the_chain_of_one_number(sweep: dict[str, Any], capsys: Any) -> None:
    common = ["--profile", "smoke", "--runs-dir", str(sweep["runs"])]
    assert main(["explain", str(sweep["spec"]), "1", "16/AP", *common]) == 0
    text = capsys.readouterr().out
    for seed in (0, 1):
        planned = sweep["plan"][("1", "16", seed)]
        assert f"run {planned.run_id}" in text
        assert str(planned.run_dir / "record.json") in text
        assert str(planned.run_dir / "epoch_12.pth") in text
    assert "slurm:" in text and "offline, not synced" in text and "0123456789" in text
    assert main(["explain", str(sweep["spec"]), "9", "AP", *common]) == 2


def test_check_lists_numbers_that_moved_with_their_runs(sweep: dict[str, Any], capsys: Any) -> None:
    assert main(sweep["args"]) == 0
    path = sweep["records"][("1", "8", 0)]
    raw = json.loads(path.read_text())
    raw["metrics"]["bbox_mAP"] = 0.40
    path.write_text(json.dumps(raw))
    capsys.readouterr()
    new_out = str(sweep["tmp"] / "out2")
    args = [*sweep["args"], "--out", new_out, "--check", str(sweep["tmp"] / "out")]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "demo [1 | 8/bbox_mAP]: 31.0 ± 1.4 (2) -> 36.0 ± 5.7 (2) (+5.00)" in out
    assert main([*args[:-1], new_out]) == 0  # against itself: nothing moved


def test_corrupt_json_record_is_one_line_naming_the_file(
    sweep: dict[str, Any], capsys: Any
) -> None:
    path = sweep["records"][("1", "16", 1)]
    path.write_text('{"schema": 1, "status": ')
    assert main(sweep["args"]) == 2
    err = _errors(capsys.readouterr().err)
    assert len(err) == 1 and str(path) in err[0] and "not valid JSON" in err[0]


def test_schema_corrupt_record_keeps_the_table_and_names_the_file(
    sweep: dict[str, Any], capsys: Any
) -> None:
    path = sweep["records"][("1", "16", 1)]
    raw = json.loads(path.read_text())
    raw["metrics"]["bbox_mAP"] = 33.0  # percent where a fraction belongs
    path.write_text(json.dumps(raw))
    assert main(sweep["args"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: key 'metrics.bbox_mAP' must be a fraction" in err
    md = (sweep["tmp"] / "out" / "demo.smoke.md").read_text()
    # the other seed still shows, marked as 1 of 2; the other cells are all there
    assert "| 1 | 30.00 | 31.0 ± 1.4 (2) | 30.00 (1/2) | 35.0 (1/2) |" in md
    assert "36.0 (1/2)" in md


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("", "no 'table' block"),
        (
            TABLE.format(metrics="bbox_mAP, params.neck"),
            "no record of sweep 'demo' has 'params.neck'",
        ),
        (TABLE.format(metrics="bbox_AP"), "unknown metric 'bbox_AP'"),
    ],
)
def test_bad_spec_is_one_line_and_exit_2(
    sweep: dict[str, Any], capsys: Any, table: str, message: str
) -> None:
    sweep["spec"].write_text(SPEC + table)
    assert main(sweep["args"]) == 2
    err = _errors(capsys.readouterr().err)
    assert len(err) == 1, err
    assert str(sweep["spec"]) in err[0]
    assert message in err[0]


@pytest.mark.parametrize("argv", [[], ["--format", "docx", "x.yaml"], ["--bogus"], ["explain"]])
def test_bad_command_line_is_one_line_and_exit_2(argv: list[str], capsys: Any) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("make_tables: error: ")


def test_runs_as_a_script_and_as_a_module_without_torch(tmp_path: Path) -> None:
    probe = (
        "import runpy, sys; sys.argv = ['make_tables', '--help']\n"
        "try:\n    runpy.run_path('analysis/make_tables.py', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = ('torch', 'mmcv', 'mmdet', 'submitit', 'wandb')\n"
        "bad = sorted(m for m in heavy if m in sys.modules)\n"
        "print('LOADED', bad)\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True)
    assert "LOADED []" in run.stdout, run.stdout + run.stderr
    for cmd in (["analysis/make_tables.py"], ["-m", "analysis.make_tables"]):
        done = subprocess.run(
            [sys.executable, *cmd, "--help"], cwd=REPO, capture_output=True, text=True
        )
        assert done.returncode == 0 and "SPEC" in done.stdout, done.stderr
