"""python -m lors.count agrees with the closed form of lors.adamixer_counting."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config, DictAction

from lors.adamixer_counting import decoder_params_from_config
from lors.count import main

REPO = Path(__file__).resolve().parents[2]
PLAIN = "configs/adamixer/adamixer_r50_1x_coco.py"
LORS = "configs/adamixer_lors/adamixer_lors_r50_1x_coco.py"
SMOKE_LORS = "configs/smoke/adamixer_lors_smoke.py"

CASES = [
    (PLAIN, []),
    (LORS, []),
    (LORS, ["model.roi_head.lors_cfg.parts=shared"]),
    (LORS, ["model.roi_head.lors_cfg.parts=private"]),
    (LORS, ["model.roi_head.lors_cfg.static=False"]),
    (LORS, ["model.roi_head.lors_cfg.adaptive=False"]),
    (
        LORS,
        [
            "model.roi_head.num_stages=3",
            "model.roi_head.lors_cfg.adaptive_groups=2",
            "model.roi_head.lors_cfg.adaptive_rank=8",
            "model.roi_head.lors_cfg.static_rank=4",
        ],
    ),
    (PLAIN, ["model.roi_head.num_stages=2", "model.roi_head.in_points=16"]),
    (PLAIN, ["model.rpn_head.num_queries=300", "model.roi_head.out_points=64"]),
    (SMOKE_LORS, []),
    ("configs/smoke/adamixer_smoke.py", []),
]


def _parse_options(options: list[str]) -> dict:
    """The overrides exactly as ``--cfg-options`` parses them."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    return parser.parse_args(["--cfg-options", *options] if options else []).cfg_options


@pytest.mark.parametrize(("config", "options"), CASES)
def test_count_cli_equals_closed_form(
    config: str, options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(REPO / config), "--json"] + (["--cfg-options", *options] if options else [])
    assert main(argv) == 0
    counts = json.loads(capsys.readouterr().out)
    cfg = Config.fromfile(str(REPO / config))
    cfg.merge_from_dict(_parse_options(options))
    cfg_dict = cfg.to_dict()
    closed = decoder_params_from_config(cfg_dict)
    assert counts["roi_head"] == closed["total"]
    assert counts["roi_head_shared"] == closed["shared"]
    assert counts["roi_head_private"] == closed["private"]
    assert counts["rpn_head"] == closed["rpn_head"]
    parts = ("backbone", "neck", "rpn_head", "roi_head")
    assert counts["total"] == sum(counts[p] for p in parts)


def test_lors_release_shrinks_the_decoder_by_about_70_percent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main([str(REPO / PLAIN), "--json"])
    plain = json.loads(capsys.readouterr().out)
    main([str(REPO / LORS), "--json"])
    lors = json.loads(capsys.readouterr().out)
    assert plain["roi_head_shared"] == 0 and lors["roi_head_shared"] > 0
    assert 0.65 < 1 - lors["roi_head"] / plain["roi_head"] < 0.75


def test_cli_as_a_module_prints_a_table(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "lors.count", str(REPO / SMOKE_LORS)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.strip().splitlines()]
    assert names == [
        "backbone",
        "neck",
        "rpn_head",
        "roi_head",
        "total",
        "roi_head_shared",
        "roi_head_private",
    ]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["model.roi_head.lors_cfg.rank=4"], "valid keys"),
        (["model.roi_head.num_stages=4"], "expected 4 (model.roi_head.num_stages)"),
    ],
)
def test_cli_bad_knobs_exit_2_with_one_line(
    options: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(REPO / LORS), "--cfg-options", *options]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1


def test_cli_missing_config_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["configs/nope.py"]) == 2
    assert "configs/nope.py not found" in capsys.readouterr().err
