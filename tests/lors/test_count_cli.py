"""python -m lors.count and the record hook, both counting a built model with
lors.model_parts.count_model_params, agree with the closed form of lors.adamixer_counting."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from mmdet.registry import MODELS
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from torch import nn

from harness.job.hook import count_params as hook_count_params
from harness.records.schema import PARAM_KEYS
from lors.adamixer_counting import decoder_params_from_config
from lors.count import main
from lors.model_parts import DETECTOR_PARTS, count_model_params

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
    (
        LORS,
        [
            "model.roi_head.num_groups=2",
            "model.roi_head.in_points=64",
            "model.roi_head.lors_cfg.adaptive_rank=32",
            "model.roi_head.lors_cfg.adaptive_groups=[3,1,1,2,2,1]",
            "model.roi_head.lors_cfg.parts=private",
        ],
    ),
    (
        SMOKE_LORS,
        [
            "model.roi_head.lors_cfg.static=False",
            "model.roi_head.num_stages=1",
            "model.roi_head.lors_cfg.adaptive_groups=2",
        ],
    ),
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
    assert counts["total"] == sum(counts[p] for p in DETECTOR_PARTS)


@pytest.mark.parametrize("config", [SMOKE_LORS, "configs/smoke/adamixer_smoke.py"])
def test_record_hook_counts_what_the_cli_counts(config: str) -> None:
    """The job's record gets the numbers of the closed form too, under the record's keys."""
    cfg = Config.fromfile(str(REPO / config))
    init_default_scope(cfg.get("default_scope", "mmdet"))
    model = MODELS.build(cfg.model)
    params = hook_count_params(model)
    assert tuple(params) == PARAM_KEYS
    assert params == count_model_params(model)
    closed = decoder_params_from_config(cfg.to_dict())
    assert (params["roi_head"], params["roi_head_shared"]) == (closed["total"], closed["shared"])


class _Toy(nn.Module):
    """A detector-shaped module: no neck, a decoder with one shared LORS weight."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Linear(3, 2)  # 8
        self.rpn_head = nn.Embedding(4, 2)  # 8
        self.roi_head = nn.Module()
        self.roi_head.stage = nn.Linear(2, 2)  # 6, private
        self.roi_head.lors_shared_weight = nn.Parameter(nn.init.zeros_(nn.Linear(5, 1).weight))
        self.extra = nn.Linear(1, 1)  # 2, in no part but in the total


def test_count_model_params_by_part() -> None:
    assert count_model_params(_Toy()) == {
        "backbone": 8,
        "neck": 0,
        "rpn_head": 8,
        "roi_head": 11,
        "total": 29,
        "roi_head_shared": 5,
        "roi_head_private": 6,
    }


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
