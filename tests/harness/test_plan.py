"""Plans: every status from records, the journal and job liveness; purity; no torch on the path."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness import journal
from harness.identity import code_version
from harness.plan import PlannedCell, gc_paused, make_plan, render_plan
from harness.records.record import read_config
from harness.records.store import write_record
from harness.spec import load_spec
from tests.harness.conftest import REPO, write_spec


def _record(
    pc: PlannedCell, status: str, job: str = "1", executor: str = "local", **extra: object
) -> None:
    write_record(
        pc.run_dir / "record.json",
        {
            "schema": 2,
            "identity": {
                "config": pc.config_digest,
                "data": pc.data_manifest,
                "code": code_version().source_hash,
            },
            "sweep": "tiny-test",
            "profile": "smoke",
            "label": pc.cell.label,
            "cell": {"coords": dict(pc.cell.coords), "seed": pc.cell.seed},
            "status": status,
            "run_id": pc.run_id,
            "metrics": {},
            "params": {},
            "attempts": [{"executor": executor, "job_id": job, "exit": None}],
            **extra,
        },
    )


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_new_then_statuses_from_records(tmp_path: Path, tiny_spec: Path) -> None:
    spec = load_spec(tiny_spec)
    runs = tmp_path / "runs"
    plan = make_plan(spec, "smoke", runs)
    assert [c.status for c in plan.cells] == ["new", "new"]
    assert not runs.exists()  # planning writes nothing
    a, b = plan.cells
    assert a.run_dir == runs / "tiny-test" / "smoke" / f"hidden=4-{a.run_id}"
    _record(a, "done")
    _record(b, "running", job="999")
    before = _tree(runs)
    plan = make_plan(spec, "smoke", runs)
    assert [c.status for c in plan.cells] == ["done", "running"]
    assert plan.cells[0].record_path == a.run_dir / "record.json"
    dead = make_plan(spec, "smoke", runs, alive={"local:999": False})
    assert (
        dead.cells[1].status == "failed" and "ended while the run was running" in dead.cells[1].note
    )
    alive = make_plan(spec, "smoke", runs, alive=lambda jobs: dict.fromkeys(jobs, True))
    assert alive.cells[1].status == "running" and alive.cells[1].job == "local:999"
    assert _tree(runs) == before


def test_run_that_ends_while_the_plan_asks_its_job_is_not_vanished(
    tmp_path: Path, tiny_spec: Path
) -> None:
    """The plan reads a record as running, then asks the executor: a job that wrote its final
    record and exited in between is done, not vanished (else a search resubmits it)."""
    spec = load_spec(tiny_spec)
    runs = tmp_path / "runs"
    a, b = make_plan(spec, "smoke", runs).cells
    _record(a, "running", job="7")
    _record(b, "running", job="8")

    def ended_meanwhile(jobs: set[str]) -> dict[str, bool]:
        _record(a, "done", job="7")  # job 7 finished after the scan, before this answer
        return dict.fromkeys(jobs, False)

    plan = make_plan(spec, "smoke", runs, alive=ended_meanwhile)
    assert [c.status for c in plan.cells] == ["done", "failed"]
    assert plan.cells[0].record is not None and plan.cells[0].record.status == "done"
    assert "ended while the run was running" in plan.cells[1].note


def test_queued_from_journal_and_vanished_before_start(tmp_path: Path, tiny_spec: Path) -> None:
    spec = load_spec(tiny_spec)
    runs = tmp_path / "runs"
    plan = make_plan(spec, "smoke", runs)
    ids = [c.run_id for c in plan.cells]
    journal.record_submitting(plan.sweep_dir, "tok1", "slurm", [[ids[0]], [ids[1]]])
    assert [c.status for c in make_plan(spec, "smoke", runs).cells] == ["new", "new"]  # pending
    journal.append(plan.sweep_dir, "submitted", "tok1", jobs=["5_0", "5_1"])
    queued = make_plan(spec, "smoke", runs, alive={"slurm:5_0": True, "slurm:5_1": False})
    assert [c.status for c in queued.cells] == ["queued", "failed"]
    assert queued.cells[0].job == "slurm:5_0"
    assert "before the run started" in queued.cells[1].note


def test_resubmitted_failed_run_is_queued_again(tmp_path: Path, tiny_spec: Path) -> None:
    spec = load_spec(tiny_spec)
    runs = tmp_path / "runs"
    cell = make_plan(spec, "smoke", runs).cells[0]
    _record(cell, "failed", job="7")
    journal.record_submitting(cell.run_dir.parent, "tok2", "local", [[cell.run_id]])
    journal.append(cell.run_dir.parent, "submitted", "tok2", jobs=["8"])
    assert make_plan(spec, "smoke", runs, alive={"local:8": True}).cells[0].status == "queued"
    assert make_plan(spec, "smoke", runs, alive={"local:8": False}).cells[0].status == "failed"


def test_stale_when_config_changes(tmp_path: Path, tiny_spec: Path) -> None:
    runs = tmp_path / "runs"
    old = make_plan(load_spec(tiny_spec), "smoke", runs).cells[0]
    _record(old, "done")
    changed = tiny_spec.read_text().replace(
        "timeout_min: 10}", "timeout_min: 10}\n    overrides: {train_cfg.max_iters: 7}"
    )
    plan = make_plan(load_spec(write_spec(tmp_path, changed, name="changed.yaml")), "smoke", runs)
    assert plan.cells[0].status == "stale" and plan.cells[0].run_id != old.run_id
    assert plan.cells[0].record_path == old.run_dir / "record.json"
    assert plan.cells[0].changed == ("config",)  # what harness.status names
    assert plan.cells[1].status == "new"


def test_render_has_every_column(tmp_path: Path) -> None:
    spec = load_spec(REPO / "sweeps" / "examples" / "tiny.yaml")
    text = render_plan(make_plan(spec, "smoke", tmp_path / "runs"))
    lines = text.splitlines()
    assert lines[1].split() == ["label", "run", "id", "status", "decoder", "params", "resources"]
    assert "decoder=AdaMixer+LORS" in text and "0g/1c/4G/30m" in text
    lors_row = next(line for line in lines if "AdaMixer+LORS" in line)
    assert "M (" in lors_row and " sh + " in lors_row  # counts from lors.adamixer_counting


def test_planning_imports_no_torch(tmp_path: Path) -> None:
    code = (
        "import sys, json\n"
        "from harness.spec import load_spec\nfrom harness.plan import make_plan, render_plan\n"
        f"p = make_plan(load_spec({str(REPO / 'sweeps/examples/tiny.yaml')!r}), 'smoke', "
        f"__import__('pathlib').Path({str(tmp_path)!r}))\nrender_plan(p)\n"
        "print(json.dumps(sorted(m for m in ('torch', 'mmcv', 'mmdet') if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_corrupt_record_does_not_break_the_plan(tmp_path: Path, tiny_spec: Path) -> None:
    spec = load_spec(tiny_spec)
    runs = tmp_path / "runs"
    cell = make_plan(spec, "smoke", runs).cells[0]
    cell.run_dir.mkdir(parents=True)
    for body in (b"{not json", b'{"status": "done\xff"}'):  # bad JSON, then not UTF-8
        (cell.run_dir / "record.json").write_bytes(body)
        planned = make_plan(spec, "smoke", runs).cells[0]
        assert planned.status == "failed" and "not valid JSON" in planned.note
        assert planned.record_path == cell.run_dir / "record.json" and planned.record is None


def test_plan_keeps_the_record_without_its_config(tmp_path: Path, tiny_spec: Path) -> None:
    spec = load_spec(tiny_spec)
    runs = tmp_path / "runs"
    cell = make_plan(spec, "smoke", runs).cells[0]
    path = cell.run_dir / "record.json"
    _record(cell, "done", config={"model": {"x": 1}}, metrics={"m": 0.5})
    planned = make_plan(spec, "smoke", runs).cells[0]
    assert planned.status == "done" and planned.run_dir == cell.run_dir
    assert planned.record is not None and not hasattr(planned.record, "config")
    assert read_config(path) == {"model": {"x": 1}}  # read from the file when it is wanted
    assert planned.record.metrics == {"m": 0.5}
    assert json.loads(path.read_text())["config"] == {"model": {"x": 1}}  # the file keeps it


def test_gc_paused_restores_the_collector(tmp_path: Path, tiny_spec: Path) -> None:
    assert gc.isenabled()
    make_plan(load_spec(tiny_spec), "smoke", tmp_path / "runs")
    assert gc.isenabled()
    with pytest.raises(KeyError), gc_paused():
        assert not gc.isenabled()
        raise KeyError("x")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()
