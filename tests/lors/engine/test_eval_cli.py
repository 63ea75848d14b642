"""``python -m lors.engine.test``: evaluate a checkpoint on a tiny synthetic set; a converted
release checkpoint scores what the model it came from scores; a checkpoint that does not fit is
one line and exit 2, before any evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from lors.convert.__main__ import main as convert_main
from lors.convert.mapping import make_plan, to_release
from lors.convert.model import decoder_dims, load_config
from lors.data.synthetic import SyntheticSpec, write_synthetic
from lors.engine.test import main

REPO = Path(__file__).resolve().parents[3]
SMOKE = REPO / "configs" / "smoke" / "adamixer_lors_smoke.py"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    root = tmp_path_factory.mktemp("eval")
    write_synthetic(root / "data", SyntheticSpec(num_train=2, num_val=6))
    cfg = load_config(SMOKE)
    init_default_scope("mmdet")
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    state = model.state_dict()
    torch.save({"state_dict": state}, root / "ours.pth")
    dims = decoder_dims(model, "lors-release", SMOKE)
    plan = make_plan("lors-release", {k: tuple(v.shape) for k, v in state.items()}, dims)
    torch.save({"state_dict": to_release(plan, state)}, root / "release.pth")
    truncated = {k: v for k, v in state.items() if not k.endswith("fc_cls.bias")}
    torch.save({"state_dict": truncated}, root / "partial.pth")
    return {"root": root, "params": sum(p.numel() for p in model.parameters())}


def _options(root: Path) -> list[str]:
    data = root / "data"
    return [
        "--work-dir", str(root / "work"),
        "--cfg-options", "synthetic_data=None",
        f"test_dataloader.dataset.data_root={data}/",
        f"test_evaluator.ann_file={data}/annotations/instances_val.json",
    ]  # fmt: skip


def _evaluate(setup: dict[str, Any], name: str, capfd: pytest.CaptureFixture[str]) -> tuple:
    code = main([str(SMOKE), str(setup["root"] / name), *_options(setup["root"])])
    out, err = capfd.readouterr()
    return code, out, err


def test_prints_the_coco_table_and_one_summary_line(
    setup: dict[str, Any], capfd: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _evaluate(setup, "ours.pth", capfd)
    assert code == 0
    assert "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all" in out
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["images"] == 6
    assert summary["params"] == setup["params"]
    assert isinstance(summary["bbox_mAP_50"], float) and 0.0 <= summary["bbox_mAP_50"] <= 1.0


def test_converted_release_scores_what_its_model_scores(
    setup: dict[str, Any], capfd: pytest.CaptureFixture[str]
) -> None:
    root = setup["root"]
    assert convert_main([str(root / "release.pth"), str(root / "converted.pth"),
                         "--config", str(SMOKE)]) == 0  # fmt: skip
    capfd.readouterr()
    _, ours, _ = _evaluate(setup, "ours.pth", capfd)
    code, converted, _ = _evaluate(setup, "converted.pth", capfd)
    assert code == 0

    def metrics(out: str) -> dict[str, Any]:
        summary = json.loads(out.strip().splitlines()[-1])
        return {k: v for k, v in summary.items() if k.startswith("bbox_")}

    assert metrics(converted) == metrics(ours)


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("release.pth", "convert it first with python -m lors.convert"),
        ("partial.pth", "lacks key 'roi_head.stages.0.fc_cls.bias' and 2 more"),
        ("absent.pth", "not found"),
    ],
)
def test_a_checkpoint_that_does_not_fit_is_one_line_exit_2(
    setup: dict[str, Any], capfd: pytest.CaptureFixture[str], name: str, phrase: str
) -> None:
    code, out, err = _evaluate(setup, name, capfd)
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and phrase in last
    assert "Average Precision" not in out
