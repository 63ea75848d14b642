"""Malformed specs: each is refused with exit code 2 and one line naming the file and the key,
before any folder is created or anything is submitted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import run_cli
from harness.errors import SpecError
from harness.launch import main
from harness.spec import load_spec
from tests.harness.conftest import REPO, TINY_AXIS, TINY_SPEC, write_spec

SMOKE_LORS_SPEC = f"""
name: knobs
base: {REPO / "configs" / "smoke" / "adamixer_lors_smoke.py"}
default_profile: smoke
profiles:
  smoke:
    overrides: {{}}
axes:
  axis: r
  key: model.roi_head.lors_cfg.adaptive_rank
  values: [8, 16]
"""

# (case id, spec text, the key the error must name)
BAD: list[tuple[str, str, str]] = [
    ("unknown top-level key", TINY_SPEC + "sedes: [0]\n", "sedes"),
    (
        "misspelled operator",
        TINY_SPEC.replace(TINY_AXIS, "axes: {gird: [{axis: a, key: model.hidden, values: [1]}]}\n"),
        "axes.gird",
    ),
    (
        "override path not in config",
        TINY_SPEC.replace("key: model.hidden", "key: model.hiden"),
        "axes.key",
    ),
    (
        "wrong value type",
        TINY_SPEC.replace("values: [4, 8]", "values: [4, 'eight']"),
        "axes.values[1]",
    ),
    (
        "zip of unequal lengths",
        TINY_SPEC.replace(
            TINY_AXIS,
            "axes: {zip: [{axis: a, key: model.hidden, values: [4, 8]},"
            " {axis: b, key: train_cfg.max_iters, values: [5]}]}\n",
        ),
        "axes.zip",
    ),
    (
        "duplicate labels",
        TINY_SPEC.replace("values: [4, 8]", "values: [4, {label: '4', value: 5}]"),
        "axes.values",
    ),
    ("missing base config", TINY_SPEC.replace("base: {tiny}", "base: configs/nope.py"), "base"),
    (
        "unknown default profile",
        TINY_SPEC.replace("default_profile: smoke", "default_profile: smok"),
        "default_profile",
    ),
    (
        "profile override path",
        TINY_SPEC.replace("{train_cfg.max_iters: 40}", "{train_cfg.max_iter: 40}"),
        "profiles.paper.overrides.train_cfg.max_iter",
    ),
    (
        "profile override type",
        TINY_SPEC.replace("{train_cfg.max_iters: 40}", "{train_cfg.max_iters: forty}"),
        "profiles.paper.overrides.train_cfg.max_iters",
    ),
    (
        "unknown resource key",
        TINY_SPEC.replace("mem_gb: 2,", "memory: 2,"),
        "profiles.smoke.resources.memory",
    ),
    (
        "negative resource",
        TINY_SPEC.replace("cpus: 1,", "cpus: -1,"),
        "profiles.smoke.resources.cpus",
    ),
    ("missing axes", TINY_SPEC.replace(TINY_AXIS, ""), "axes"),
    ("empty values", TINY_SPEC.replace("values: [4, 8]", "values: []"), "axes.values"),
    (
        "unknown axis key",
        TINY_SPEC.replace("  values: [4, 8]", "  values: [4, 8]\n  lables: [a, b]"),
        "axes.lables",
    ),
    (
        "duplicate YAML key",
        TINY_SPEC.replace("name: tiny-test", "name: tiny-test\nname: again"),
        "duplicate key",
    ),
    ("not YAML", "name: [unclosed\n", "not valid YAML"),
    ("seeds not ints", TINY_SPEC + "seeds: [0, one]\n", "seeds[1]"),
    (
        "profile seeds not ints",
        TINY_SPEC.replace("  smoke:\n", "  smoke:\n    seeds: [1, 1]\n", 1),
        "profiles.smoke.seeds",
    ),
    (
        "table baseline of a profile that does not exist",
        TINY_SPEC + "table: {title: T, rows: hidden, columns: metrics, metrics: [bbox_mAP],"
        " baseline: {hidden: '4'}, delta: bbox_mAP,"
        " by_profile: {smok: {baseline: {hidden: '8'}}}}\n",
        "table.by_profile.smok",
    ),
    (
        "one_at_a_time baseline not a value",
        TINY_SPEC.replace(
            TINY_AXIS,
            "axes: {one_at_a_time: {baseline: {a: '3'}, axes:"
            " [{axis: a, key: model.hidden, values: [4, 8]}]}}\n",
        ),
        "axes.one_at_a_time.baseline.a",
    ),
    (
        "table metric unknown",
        TINY_SPEC + "table: {title: T, rows: hidden, columns: metrics, metrics: [mAP]}\n",
        "table.metrics",
    ),
    (
        "table rows not an axis",
        TINY_SPEC + "table: {title: T, rows: K, columns: metrics, metrics: [bbox_mAP]}\n",
        "table.rows",
    ),
    (
        "label with a comma",
        TINY_SPEC.replace("values: [4, 8]", "values: [4, {label: 'a,b', value: 8}]"),
        "axes.values[1].label",
    ),
    (
        "two axes set one key",
        TINY_SPEC.replace(
            TINY_AXIS,
            "axes: {grid: [{axis: a, key: model.hidden, values: [4]},"
            " {axis: b, key: model.hidden, values: [8]}]}\n",
        ),
        "axes.grid[1]",
    ),
    (
        "by_profile names no profile",
        TINY_SPEC.replace(
            TINY_AXIS,
            "axes: {cases: {axis: v, items: [{label: a, overrides: {},"
            " by_profile: {smok: {model.hidden: 2}}}]}}\n",
        ),
        "axes.cases.items[0].by_profile.smok",
    ),
    (
        "by_profile override type",
        TINY_SPEC.replace(
            TINY_AXIS,
            "axes: {cases: {axis: v, items: [{label: a, overrides: {},"
            " by_profile: {smoke: {model.hidden: two}}}]}}\n",
        ),
        "axes.cases.items[0].by_profile.smoke.model.hidden",
    ),
    (
        "group count that does not divide the content dimension",
        SMOKE_LORS_SPEC.replace("overrides: {}", "overrides: {model.roi_head.num_groups: 3}"),
        "profiles.smoke.overrides",
    ),
    (
        "rank larger than what it factors",
        SMOKE_LORS_SPEC.replace("values: [8, 16]", "values: [8, 17]"),
        "axes.values[1]",
    ),
    (
        "K per stage of the wrong length",
        SMOKE_LORS_SPEC.replace(
            "key: model.roi_head.lors_cfg.adaptive_rank\n  values: [8, 16]",
            "key: model.roi_head.lors_cfg.adaptive_groups\n  values: [1, [1, 2]]",
        ),
        "axes.values[1]",
    ),
    (
        "subset of an unknown value",
        TINY_SPEC.replace("timeout_min: 10}", "timeout_min: 10}\n    subset: {hidden: ['5']}"),
        "profiles.smoke.subset.hidden",
    ),
]


@pytest.mark.parametrize(("text", "key"), [(t, k) for _, t, k in BAD], ids=[i for i, _, _ in BAD])
def test_bad_spec_exit_2_one_line_no_side_effects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, key: str
) -> None:
    spec = write_spec(tmp_path, text)
    runs = tmp_path / "runs"
    with pytest.raises(SystemExit) as exit_info:
        run_cli(main, [str(spec), "--runs-dir", str(runs), "--executor", "debug"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1, err
    assert str(spec) in err and key in err, err
    assert "Traceback" not in err
    assert not runs.exists()


def test_spec_error_lists_every_problem(tmp_path: Path) -> None:
    text = TINY_SPEC.replace("key: model.hidden", "key: model.hiden") + "sedes: [0]\n"
    with pytest.raises(SpecError) as err:
        load_spec(write_spec(tmp_path, text))
    assert set(err.value.keys) == {"sedes", "axes.key"}
    assert "2 problems" in str(err.value) and "\n" not in str(err.value)


def test_cli_process_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, TINY_SPEC.replace("key: model.hidden", "key: model.hiden"))
    out = subprocess.run(
        [sys.executable, "-m", "harness.launch", str(spec), "--runs-dir", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "axes.key" in out.stderr and "hidden" in out.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("argv", [["--executor", "pbs"], ["--limit", "0"], ["--wandb", "cloud"]])
def test_bad_flags_exit_2(
    tmp_path: Path, tiny_spec: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli(main, [str(tiny_spec), "--runs-dir", str(tmp_path / "runs"), *argv])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "runs").exists()


def test_unknown_profile_exit_2(
    tmp_path: Path, tiny_spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli(main, [str(tiny_spec), "--profile", "smoek", "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "smoek" in err and "smoke" in err and "profiles" in err
