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
from pathlib import Path
from typing import Any

import pytest

from analysis.make_tables import main
from harness.evaluate import EXECUTOR
from harness.layout import run_folder_name, sweep_dir
from harness.plan import make_plan
from harness.records.store import record_path
from harness.records.writer import RecordWriter
from harness.spec import load_spec
from tests.analysis.factory import record_dict, run_id_of

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
    runs: Path, label: str = RELEASE, ap: float = RELEASE_AP, status: str = "completed"
) -> Path:
    """An evaluation record as ``harness.evaluate.evaluate_to_record`` writes it: the same fields,
    one attempt under its executor, the checkpoint in the config block, params, one evaluation."""
    run_id = run_id_of(label, "evaluation")
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
    results = {"coco/bbox_mAP": ap, "coco/bbox_mAP_50": 0.52, "coco/bbox_mAP_75": 0.37}
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
