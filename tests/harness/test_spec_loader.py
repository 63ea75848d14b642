"""Valid specs: operators, labels, coords, seeds, profiles, resources, the table block."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.spec import Resources, load_spec
from tests.harness.conftest import REPO, write_spec

HEADER = """
name: t
base: {tiny}
profiles:
  paper: {resources: {gpus: 8, cpus: 32, mem_gb: 128, timeout_min: 1440}}
  smoke: {resources: {cpus: 2}}
"""


def _load(tmp_path: Path, axes: str, extra: str = "") -> object:
    return load_spec(write_spec(tmp_path, HEADER + axes + extra))


@pytest.mark.parametrize(
    ("axes", "labels"),
    [
        (
            "axes: {grid: [{axis: a, key: model.hidden, values: [4, 8]},"
            " {axis: b, key: optim_wrapper.optimizer.lr, values: [0.1, 0.2]}]}",
            ["a=4,b=0.1", "a=4,b=0.2", "a=8,b=0.1", "a=8,b=0.2"],
        ),
        (
            "axes: {zip: [{axis: a, key: model.hidden, values: [4, 8]},"
            " {axis: b, key: optim_wrapper.optimizer.lr, values: [0.1, 0.2]}]}",
            ["a=4,b=0.1", "a=8,b=0.2"],
        ),
        (
            "axes: {one_at_a_time: {baseline: {a: 8, b: 0.1}, axes: ["
            "{axis: a, key: model.hidden, values: [4, 8, 16]},"
            " {axis: b, key: optim_wrapper.optimizer.lr, values: [0.1, 0.3]}]}}",
            ["a=8,b=0.1", "a=4,b=0.1", "a=16,b=0.1", "a=8,b=0.3"],
        ),
        (
            "axes: {cases: {axis: v, items: [{label: small, overrides: {model.hidden: 2}},"
            " {label: big net, overrides: {model.hidden: 32, train_cfg.max_iters: 5}}]}}",
            ["v=small", "v=big net"],
        ),
        (
            "axes: {axis: a, key: model.hidden, values: [{label: four, value: 4}, 8]}",
            ["a=four", "a=8"],
        ),
    ],
)
def test_operators_expand_in_spec_order(tmp_path: Path, axes: str, labels: list[str]) -> None:
    spec = _load(tmp_path, axes)
    assert [c.label for c in spec.cells("smoke")] == labels  # type: ignore[attr-defined]


def test_seeds_profiles_resources_and_coords(tmp_path: Path) -> None:
    spec = _load(
        tmp_path,
        "axes: {axis: a, key: model.hidden, values: [4, {label: '8', value: 8,"
        " resources: {timeout_min: 99, paper: {gpus: 4}}}]}\n",
        "seeds: [0, 1]\n",
    )
    cells = spec.cells("paper")  # type: ignore[attr-defined]
    assert [c.label for c in cells] == ["a=4,seed=0", "a=4,seed=1", "a=8,seed=0", "a=8,seed=1"]
    assert cells[0].coords == {"a": "4"} and cells[0].seed == 0
    assert cells[1].overrides == {"model.hidden": 4, "randomness.seed": 1}
    assert cells[0].resources == Resources(gpus=8, cpus=32, mem_gb=128.0, timeout_min=1440)
    assert cells[2].resources == Resources(gpus=4, cpus=32, mem_gb=128.0, timeout_min=99)
    smoke = spec.cells("smoke")  # type: ignore[attr-defined]
    assert smoke[2].resources == Resources(gpus=0, cpus=2, mem_gb=4.0, timeout_min=99)
    assert spec.default_profile == "paper"  # type: ignore[attr-defined]


def test_subset_and_axis_values_and_table(tmp_path: Path) -> None:
    body = (
        HEADER.replace("smoke: {resources: {cpus: 2}}", "smoke: {subset: {a: ['8']}}")
        + "axes: {grid: [{axis: a, key: model.hidden, values: [4, 8]},"
        " {axis: b, key: optim_wrapper.optimizer.lr, values: [0.1, 0.2]}]}\n"
        "table: {title: T, label: tab:t, rows: a, columns: b, metrics: [bbox_mAP, params.total],"
        " baseline: {a: '4'}, delta: bbox_mAP}\n"
    )
    spec = load_spec(write_spec(tmp_path, body))
    assert [c.label for c in spec.cells("smoke")] == ["a=8,b=0.1", "a=8,b=0.2"]
    assert spec.axis_values("smoke") == {"a": ["8"], "b": ["0.1", "0.2"]}
    assert spec.axis_values("paper") == {"a": ["4", "8"], "b": ["0.1", "0.2"]}
    assert spec.table is not None
    assert spec.table.metrics == ("bbox_mAP", "params.total")
    assert spec.table.baseline == {"a": "4"} and spec.table.kind == "runs"


def test_a_profile_runs_its_own_seeds_and_compares_with_its_own_baseline(tmp_path: Path) -> None:
    body = (
        HEADER.replace(
            "smoke: {resources: {cpus: 2}}", "smoke: {seeds: [0, 1, 2], subset: {a: ['8', '16']}}"
        )
        + "axes: {axis: a, key: model.hidden, values: [4, 8, 16]}\n"
        "seeds: [0]\n"
        "table: {title: T, rows: a, columns: metrics, metrics: [bbox_mAP], baseline: {a: '4'},"
        " delta: bbox_mAP, by_profile: {smoke: {baseline: {a: '8'}}}}\n"
    )
    spec = load_spec(write_spec(tmp_path, body))
    assert [c.label for c in spec.cells("paper")] == ["a=4,seed=0", "a=8,seed=0", "a=16,seed=0"]
    assert [c.seed for c in spec.cells("smoke")] == [0, 1, 2, 0, 1, 2]
    assert spec.table is not None
    assert spec.table.baseline_of("paper") == {"a": "4"}
    assert spec.table.baseline_of("smoke") == {"a": "8"}


@pytest.mark.parametrize(
    "name", ["table2", "table3", "table4", "table5", "table6", "table7", "table8"]
)
def test_paper_tables_replicate_their_smoke_cells(name: str) -> None:
    """Every paper-table spec runs one seed per cell in paper (the paper reports one run) and
    three in smoke, and its smoke table has a Δ baseline among its own cells."""
    spec = load_spec(REPO / "sweeps" / f"{name}.yaml")
    assert spec.seeds_of(spec.profile("paper")) == (0,)
    assert len(spec.seeds_of(spec.profile("smoke"))) >= 3
    assert spec.table is not None
    baseline = spec.table.baseline_of("smoke")
    if baseline is not None:
        values = spec.axis_values("smoke")
        assert all(label in values[axis] for axis, label in baseline.items()), baseline


SPECS = sorted(str(p.relative_to(REPO / "sweeps")) for p in (REPO / "sweeps").rglob("*.yaml"))


@pytest.mark.parametrize("name", SPECS)
def test_repository_specs_load(name: str) -> None:
    spec = load_spec(REPO / "sweeps" / name)
    if spec.search is not None:  # a study: its cells come from trials, in both profiles
        assert {"paper", "smoke"} <= set(spec.profiles) and not spec.cells()
        return
    assert spec.table is not None and spec.cells()
    if spec.table.kind == "runs":  # every run sweep can be tried on this machine
        assert {"paper", "smoke"} <= set(spec.profiles) and spec.cells("smoke")


def test_case_overrides_by_profile(tmp_path: Path) -> None:
    spec = _load(
        tmp_path,
        "axes: {cases: {axis: v, items: [{label: a, overrides: {model.hidden: 2},"
        " by_profile: {smoke: {train_cfg.max_iters: 3}}}]}}\n",
    )
    assert spec.cells("smoke")[0].overrides == {"model.hidden": 2, "train_cfg.max_iters": 3}  # type: ignore[attr-defined]
    assert spec.cells("paper")[0].overrides == {"model.hidden": 2}  # type: ignore[attr-defined]
