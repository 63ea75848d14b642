"""The harness trains a real smoke detector (not the tiny workload): mmdet's pipeline, the LORS
decoder, CocoMetric, the project's runner, all through ``harness.launch``.

The spec draws a tenth of the smoke set (200 / 40 images through the config's own
``synthetic_data`` block): writing and scoring the full 2,000 / 500 twice took most of the test's
55 s and tests nothing more."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.plan import make_plan
from harness.records.store import read_raw
from harness.spec import load_spec
from tests.harness.conftest import launch, write_spec

REPO = Path(__file__).resolve().parents[2]
SPEC = f"""
name: smoke-detector
base: {REPO / "configs" / "smoke" / "adamixer_lors_smoke.py"}
default_profile: smoke
profiles:
  smoke:
    overrides: {{train_cfg.max_iters: 12, train_cfg.val_interval: 12,
                default_hooks.checkpoint.interval: 6,
                @DATA@}}
    resources: {{gpus: 0, cpus: 2, mem_gb: 4, timeout_min: 10}}
axes:
  axis: r
  key: model.roi_head.lors_cfg.adaptive_rank
  values: [4]
table: {{title: Smoke detector, rows: r, columns: metrics, metrics: [bbox_mAP, bbox_mAP_50]}}
"""
SMALL_SET = "synthetic_data.num_train: 200, synthetic_data.num_val: 40"
SMALL_ARGS = ("--num-train", "200", "--num-val", "40")


@pytest.mark.slow
def test_launch_trains_the_real_smoke_detector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = write_spec(tmp_path, SPEC.replace("@DATA@", SMALL_SET))
    runs = tmp_path / "runs"
    proc = launch(str(spec), "--executor", "debug", "--runs-dir", str(runs), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # no data/smoke under tmp_path: the launch made the project's synthetic set itself, the
    # same bytes as the data CLI writes
    made = [line for line in proc.stdout.splitlines() if line.startswith("made the smoke data")]
    assert len(made) == 1 and "seed 0: 200 train / 40 val images" in made[0], proc.stdout
    reference = tmp_path / "reference"
    subprocess.run(
        [sys.executable, "-m", "lors.data.synthetic", str(reference), "--seed", "0", *SMALL_ARGS],
        check=True,
        capture_output=True,
        cwd=REPO,
    )
    for name in ("annotations/instances_train.json", "annotations/instances_val.json"):
        assert (tmp_path / "data" / "smoke" / name).read_bytes() == (reference / name).read_bytes()
    # the table, printed after the command that rebuilds it
    assert "table: python " in proc.stdout and "**Smoke detector**" in proc.stdout
    # the config's data_root is relative: plan from where the launch ran, or the data manifest
    # (and the run id) would be those of whatever data/smoke the checkout happens to hold
    monkeypatch.chdir(tmp_path)
    (cell,) = make_plan(load_spec(spec), "smoke", runs).cells
    rec = read_raw(cell.run_dir / "record.json")
    assert cell.status == "done", rec.get("error_tail")
    assert rec["history"][-1]["iter"] == 12
    assert set(rec["metrics"]) >= {"bbox_mAP", "bbox_mAP_50"}
    assert rec["params"]["roi_head_shared"] > 0 and rec["params"]["roi_head_private"] > 0
    assert rec["config"]["model"]["roi_head"]["lors_cfg"]["adaptive_rank"] == 4


def test_dry_run_says_the_launch_would_make_the_data(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, SPEC.replace("@DATA@", SMALL_SET))
    proc = launch(str(spec), "--dry-run", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "note: a launch would first make the smoke data: " in proc.stdout
    assert not (tmp_path / "data").exists() and not (tmp_path / "runs").exists()


def test_missing_dataset_stops_the_launch_before_anything_is_written(tmp_path: Path) -> None:
    # without the synthetic_data block a dataset is the user's to provide (COCO, say)
    spec = write_spec(tmp_path, SPEC.replace("@DATA@", "synthetic_data: null"))
    proc = launch(str(spec), "--executor", "local", cwd=tmp_path)  # no data/smoke under tmp_path
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "data/smoke" in lines[0] and "train_dataloader.dataset.data_root" in lines[0]
    assert "python -m lors.data.synthetic" in lines[0]
    assert not (tmp_path / "runs").exists()
