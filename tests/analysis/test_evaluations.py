"""Evaluations of a given checkpoint (``python -m harness.evaluate``) as extra rows of a run table.

A Table 2-shaped sweep (smoke profile, three seeds) with its reproduced records where the plan
puts them, plus an evaluation record written the way ``harness.evaluate`` writes it (through
``RecordWriter``, executor ``evaluate``): the evaluation is a row after the reproduced rows in the
LaTeX, Markdown and CSV alike, n = 1 with no spread and no Δ, its record and checkpoint in
``explain``; the reproduced rows print exactly what they printed without it; and a sweep without
evaluations prints exactly what ``make_tables`` printed before evaluation rows existed (golden
files written by that code; run ids, which hash the code, are masked in the provenance).

Regenerate the golden files with ``LORS_UPDATE_GOLDEN=1`` (as ``test_golden``), and review the
diff of tests/analysis/golden/.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from analysis import evaluations
from analysis.layout import TableLayout
from analysis.make_tables import main
from analysis.table import build_table
from harness.evaluate import EXECUTOR
from harness.layout import run_folder_name, sweep_dir
from harness.plan import make_plan
from harness.records.record import read_run_record
from harness.records.store import record_path
from harness.records.writer import RecordWriter
from harness.spec import load_spec
from tests.analysis.factory import cell_state, record_dict, run_id_of

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "configs" / "smoke" / "adamixer_lors_smoke.py"
GOLDEN = Path(__file__).parent / "golden"
# sweeps/table2.yaml's smoke profile and table block, with an absolute base (the spec lives in
# tmp_path) and its own copy, so that an edit of the real spec does not move these golden files
SPEC = f"""\
name: table2
base: {SMOKE}
profiles:
  smoke: {{}}
seeds: [0, 1, 2]
axes:
  cases:
    axis: model
    items:
      - label: AdaMixer
        overrides: {{model.roi_head.lors_cfg: null, model.roi_head.num_groups: 4,
                    model.roi_head.in_points: 16}}
      - label: AdaMixer+LORS
        overrides: {{}}
table:
  title: "AdaMixer and AdaMixer+LORS on COCO val (R50, 1x)"
  label: tab:main
  rows: model
  columns: metrics
  metrics: [params.roi_head, bbox_mAP, bbox_mAP_50, bbox_mAP_75, bbox_mAP_s, bbox_mAP_m, bbox_mAP_l]
  baseline: {{model: AdaMixer}}
  delta: bbox_mAP
"""
#: bbox_mAP of each reproduced cell's seeds, and its decoder parameters
REPRODUCED = {
    "AdaMixer": ((0.300, 0.310, 0.305), 1_250_000),
    "AdaMixer+LORS": ((0.320, 0.318, 0.325), 905_000),
}
RELEASE = "AdaMixer+LORS (release)"
RELEASE_AP = 0.351
RELEASE_PARAMS = {"total": 3_643_577, "roi_head": 948_100}
CHECKPOINT = {"file": "converted.pth", "sha256": "5e" * 32}
NAMES = ("table2.smoke.tex", "table2.smoke.md", "table2.smoke.csv")
_RUN_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{12}(?![0-9a-f])")
_JOB_ID = re.compile(r"slurm:[0-9]+_0")  # the factory derives a job id from the run id


@pytest.fixture
def sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The spec and the reproduced cells' records (all done) under ``runs/``, in ``tmp_path``
    as the working folder (record paths in the outputs are then relative: runs/...)."""
    monkeypatch.chdir(tmp_path)
    spec = Path("table2.yaml")
    spec.write_text(SPEC)
    runs = Path("runs")
    for planned in make_plan(load_spec(spec), "smoke", runs_root=runs).cells:
        aps, roi = REPRODUCED[planned.cell.coords["model"]]
        raw = record_dict(
            planned.cell.coords,
            planned.cell.seed,
            ap=aps[planned.cell.seed or 0],
            params={"total": 3_000_000 + roi, "roi_head": roi},
            sweep="table2",
            profile="smoke",
            label=planned.cell.label,
            run_id=planned.run_id,
            run_dir=str(planned.run_dir.relative_to(runs)),
        )
        path = planned.run_dir / "record.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(raw))
    return {"spec": spec, "runs": runs, "common": ["--profile", "smoke", "--runs-dir", "runs"]}


def write_evaluation(
    runs: Path, label: str = RELEASE, status: str = "completed", salt: str = ""
) -> Path:
    """An evaluation record as ``harness.evaluate.evaluate_to_record`` writes it: the same fields,
    one attempt under its executor, the checkpoint in the config block, params, one evaluation."""
    run_id = run_id_of(label, "evaluation" + salt)
    run_dir = sweep_dir(runs, "table2", "smoke") / run_folder_name(label, run_id)
    writer = RecordWriter(
        record_path(run_dir),
        {
            "sweep": "table2",
            "profile": "smoke",
            "label": label,
            "cell": {"coords": {"model": label}, "seed": None},
            "run_id": run_id,
            "identity": {"config": "c" * 32, "data": "d" * 16, "code": "e" * 16},
            "overrides": {},
            "data_manifest": "d" * 16,
            "code": {"commit": "fedcba9876543210fedcba9876543210fedcba98", "dirty": False},
            "versions": {"python": "3.11", "lors-harness": "0.1.0"},
            "run_dir": str(run_dir.relative_to(runs)),
            "wandb": {"id": run_id, "mode": "disabled", "dir": None, "synced": False},
        },
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    writer.start_attempt(EXECUTOR, "pid4242", "gpu-node", 4242)
    writer.set_config({"model": {"type": "AdaMixer"}, "evaluated_checkpoint": dict(CHECKPOINT)})
    if status == "failed":
        writer.finish("failed", error_tail="KeyError: roi_head", failure="error")
        return writer.path
    writer.set_params(RELEASE_PARAMS)
    results = {"coco/bbox_mAP": RELEASE_AP, "coco/bbox_mAP_50": 0.52, "coco/bbox_mAP_75": 0.37}
    results |= {"coco/bbox_mAP_s": 0.16, "coco/bbox_mAP_m": 0.38, "coco/bbox_mAP_l": 0.49}
    writer.add_evaluation(None, 0, results, checkpoint=None)
    writer.finish("completed")
    return writer.path


def tables(sweep: dict[str, Any], out: str = "out") -> dict[str, str]:
    """Run make_tables' entry point; the text of each written table file by name."""
    args = [str(sweep["spec"]), *sweep["common"], "--out", out, "--no-figures"]
    assert main(args) == 0
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(out).iterdir())}


def masked(text: str) -> str:
    """Run ids hash the code version: any edit of the code moves them (and the job ids the
    factory derives from them), so they are masked."""
    return _JOB_ID.sub("slurm:<job id>", _RUN_ID.sub("<run id>", text))


def check_golden(written: dict[str, str], prefix: str) -> None:
    for name, text in written.items():
        golden = GOLDEN / f"{prefix}{name}"
        if os.environ.get("LORS_UPDATE_GOLDEN"):
            golden.write_text(text, encoding="utf-8")
        assert golden.is_file(), f"missing golden file {golden}: see this module's docstring"
        assert text == golden.read_text(encoding="utf-8"), name


def test_without_evaluations_the_outputs_are_as_before(sweep: dict[str, Any]) -> None:
    written = tables(sweep)
    assert sorted(written) == sorted([*NAMES, "table2.smoke.provenance.json"])
    written["table2.smoke.provenance.json"] = masked(written["table2.smoke.provenance.json"])
    check_golden(written, "")


RELEASE_MD = "| AdaMixer+LORS (release) | 0.95 | 35.1 | 52.0 | 37.0 | 16.0 | 38.0 | 49.0 | — |"
RELEASE_TEX = r"AdaMixer+LORS (release) & 0.95 & 35.1 & 52.0 & 37.0 & 16.0 & 38.0 & 49.0 & --- \\"
RELEASE_CSV = (
    "AdaMixer+LORS (release),0.9481,,1,35.100,,1,52.000,,1,37.000,,1,16.000,,1,38.000,,1,"
    "49.000,,1,—,"
)
MD_NOTE = (
    "\n_Not trained by the sweep: AdaMixer+LORS (release) is an evaluation of a given checkpoint"
    " (python -m harness.evaluate); one run, so no spread, no ΔAP, and not ranked for bold._"
)
TEX_NOTE = MD_NOTE.removeprefix("\n_").removesuffix("_").replace("ΔAP", r"$\Delta$AP")
CSV_NOTE = " [not trained by the sweep, evaluations of a given checkpoint: AdaMixer+LORS (release)]"


def test_the_release_row_follows_the_reproduced_rows_in_every_output(
    sweep: dict[str, Any],
) -> None:
    before = tables(sweep, "before")
    write_evaluation(sweep["runs"])
    after = tables(sweep)
    md, tex, csv = (
        after[name] for name in ("table2.smoke.md", "table2.smoke.tex", "table2.smoke.csv")
    )
    # the release row right after the last reproduced row: its values, n = 1, no spread, no Δ
    lines = md.splitlines()
    assert lines[lines.index(RELEASE_MD) - 1].startswith("| AdaMixer+LORS | **0.90** |")
    assert lines[lines.index(RELEASE_MD) + 1] == ""
    assert md.count(MD_NOTE) == 1
    lines = tex.splitlines()
    assert lines[lines.index(RELEASE_TEX) - 1].startswith("AdaMixer+LORS & ")
    assert lines[lines.index(RELEASE_TEX) + 1] == r"\bottomrule"
    assert TEX_NOTE in tex
    assert csv.splitlines()[-1] == RELEASE_CSV
    assert CSV_NOTE in csv.splitlines()[0]
    # the reproduced rows, their bold, Δ and notes print exactly what they did without it
    assert md.replace(RELEASE_MD + "\n", "").replace(MD_NOTE, "") == before["table2.smoke.md"]
    assert (
        tex.replace(RELEASE_TEX + "\n", "").replace(" " + TEX_NOTE, "")
        == before["table2.smoke.tex"]
    )
    assert csv.replace(RELEASE_CSV + "\n", "").replace(CSV_NOTE, "") == before["table2.smoke.csv"]


def test_explain_names_the_evaluations_record_and_checkpoint(
    sweep: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_evaluation(sweep["runs"])
    record = read_run_record(path)
    assert record is not None and evaluations.is_evaluation(record)
    assert main(["explain", str(sweep["spec"]), RELEASE, "AP", *sweep["common"]]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"table2 (smoke profile), row {RELEASE}, column bbox_mAP: 35.1 [done]")
    assert "over 1 of 1 cell(s)" in text and f"value {RELEASE_AP}" in text
    assert f"record      {path}" in text
    assert f"checkpoint  converted.pth (sha256 {'5e' * 32})" in text
    assert "evaluated   a given checkpoint, not trained by the sweep" in text
    assert f"jobs        {EXECUTOR}:pid4242" in text


def test_the_newest_done_evaluation_of_a_label_shows_else_its_state(
    sweep: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    write_evaluation(sweep["runs"], status="failed")
    md = tables(sweep)["table2.smoke.md"]
    assert "| AdaMixer+LORS (release) | *failed* | *failed* |" in md
    assert (
        f"table2: {RELEASE}: failed (run {run_id_of(RELEASE, 'evaluation')})"
        in capsys.readouterr().err
    )
    args = [str(sweep["spec"]), *sweep["common"], "--out", "out", "--no-figures", "--strict"]
    assert main(args) == 1  # a failed row is a cell not done, as for any row
    write_evaluation(sweep["runs"], salt="again")  # the same label, done: it shows
    assert RELEASE_MD in tables(sweep)["table2.smoke.md"]


def test_records_that_are_not_evaluations_of_this_table_add_no_row(
    sweep: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    write_evaluation(sweep["runs"], label="AdaMixer")  # the label of a reproduced row
    other = record_dict({"model": "trained elsewhere"}, None, sweep="table2", profile="smoke")
    other["run_dir"] = f"table2/smoke/{run_folder_name(other['label'], other['run_id'])}"
    folder = sweep["runs"] / other["run_dir"]  # a harness run of no cell: no evaluation
    folder.mkdir(parents=True)
    (folder / "record.json").write_text(json.dumps(other))
    written = tables(sweep)
    written["table2.smoke.provenance.json"] = masked(written["table2.smoke.provenance.json"])
    check_golden(written, "")
    assert "evaluation AdaMixer (run" in caplog.text and "is a row of the sweep" in caplog.text


def test_with_the_columns_an_axis_an_evaluation_fills_its_own_column(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    k, r = "adaptive_groups", "adaptive_rank"
    lay = TableLayout.make(
        sweep="grid", title="K against r", rows=k, columns=r, metrics=("bbox_mAP",),
        baseline={k: "1"}, delta="bbox_mAP",
    )  # fmt: skip
    cells = [
        cell_state(tmp_path, record_dict({k: "1", r: v}, 0, ap=0.4, sweep="grid"))
        for v in ("8", "16")
    ]
    evaluated = {"file": "lors.pth", "sha256": "ab"}
    release = [
        cell_state(tmp_path, record_dict({"model": name, **coords}, None, ap=0.45, sweep="grid"))
        for name, coords in (("release", {r: "16"}), ("no rank", {}))
    ]
    release = [replace(c, evaluated=evaluated) for c in release]
    table = build_table(lay, {k: ["1"], r: ["8", "16"]}, cells, release)
    assert list(table.frame.index) == ["1", "model=release,adaptive_rank=16"]
    row = table.frame.loc["model=release,adaptive_rank=16"]
    assert row[("16", "bbox_mAP")].mean == pytest.approx(45.0) and row[("16", "bbox_mAP")].n == 1
    assert [
        row[key].state
        for key in [("8", "bbox_mAP"), ("8", "delta:bbox_mAP"), ("16", "delta:bbox_mAP")]
    ] == ["hole"] * 3
    assert table.evaluated == ("model=release,adaptive_rank=16",)
    assert (
        "evaluation model=no rank (run" in caplog.text and "of which it has no value" in caplog.text
    )


def test_the_marker_is_harness_evaluates_executor() -> None:
    assert evaluations.EXECUTOR == EXECUTOR
