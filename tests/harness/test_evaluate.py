"""``python -m harness.evaluate``: a checkpoint's evaluation becomes an ordinary run record that
analysis can read; the same checkpoint again is done already; an unconverted release checkpoint
writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from harness.evaluate import main
from harness.records.record import read_run_record
from lors.data.synthetic import SyntheticSpec, write_synthetic
from lors.engine.test import EvaluationError

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "configs" / "smoke" / "adamixer_smoke.py"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.utils import import_modules_from_strings

    root = tmp_path_factory.mktemp("evaluate")
    write_synthetic(root / "data", SyntheticSpec(num_train=2, num_val=4))
    cfg = Config.fromfile(str(SMOKE))
    import_modules_from_strings(**cfg.custom_imports)
    init_default_scope("mmdet")
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save({"state_dict": model.state_dict()}, root / "ours.pth")
    release = {"roi_head.bbox_head.0.fc_cls.weight": torch.zeros(3, 64)}
    torch.save({"state_dict": release}, root / "release.pth")
    return {"root": root, "params": sum(p.numel() for p in model.parameters())}


def _argv(root: Path, checkpoint: str) -> list[str]:
    data = root / "data"
    return [
        str(SMOKE), str(root / checkpoint),
        "--sweep", "table2", "--profile", "smoke", "--label", "AdaMixer (release)",
        "--runs-dir", str(root / "runs"),
        "--cfg-options", "synthetic_data=None",
        f"train_dataloader.dataset.data_root={data}/",
        f"val_dataloader.dataset.data_root={data}/",
        f"test_dataloader.dataset.data_root={data}/",
        f"test_evaluator.ann_file={data}/annotations/instances_val.json",
    ]  # fmt: skip


def test_writes_a_done_record_once(setup: dict[str, Any], capsys: pytest.CaptureFixture) -> None:
    root = setup["root"]
    assert main(_argv(root, "ours.pth")) == 0
    paths = list((root / "runs" / "table2" / "smoke").glob("*/record.json"))
    assert len(paths) == 1 and paths[0].parent.name.startswith("AdaMixer")
    record = read_run_record(paths[0])
    assert record is not None
    assert (record.status, record.sweep, record.profile) == ("done", "table2", "smoke")
    assert dict(record.coords) == {"model": "AdaMixer (release)"} and record.seed is None
    assert record.params["total"] == setup["params"]
    assert set(record.metrics) >= {"bbox_mAP", "bbox_mAP_50", "bbox_mAP_l"}
    assert [a.exit for a in record.attempts] == ["completed"]
    assert record.run_id in paths[0].parent.name

    capsys.readouterr()
    assert main(_argv(root, "ours.pth")) == 0
    assert "done already" in capsys.readouterr().out
    again = read_run_record(paths[0])
    assert again is not None and len(again.attempts) == 1


def test_unconverted_release_writes_no_record(setup: dict[str, Any]) -> None:
    root = setup["root"]
    before = sorted((root / "runs").rglob("*")) if (root / "runs").exists() else []
    with pytest.raises(EvaluationError, match="convert it first"):
        main(_argv(root, "release.pth"))
    after = sorted((root / "runs").rglob("*")) if (root / "runs").exists() else []
    assert after == before
