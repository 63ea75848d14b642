"""``python -m lors.convert`` on the smoke detectors: a release file converts and loads strictly;
a bad file is one line on stderr, exit 2, and nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from lors.convert.__main__ import main
from lors.convert.mapping import make_plan, to_release
from lors.convert.model import build_meta_model, decoder_dims, load_config
from lors.count import count_params

REPO = Path(__file__).resolve().parents[3]
CONFIGS = {
    "adamixer-release": REPO / "configs/smoke/adamixer_smoke.py",
    "lors-release": REPO / "configs/smoke/adamixer_lors_smoke.py",
}


def _model(release: str) -> Any:
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    cfg = load_config(CONFIGS[release])
    init_default_scope("mmdet")
    torch.manual_seed(1)
    return MODELS.build(cfg.model)


def _release_state(release: str, model: Any) -> dict[str, torch.Tensor]:
    dims = decoder_dims(model, release, CONFIGS[release])
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    return to_release(make_plan(release, shapes, dims), model.state_dict())


class Unpicklable:
    """Anything but tensors and plain data: the safe loader must refuse to build it."""


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("release")
    out: dict[str, Any] = {}
    for release in CONFIGS:
        model = _model(release)
        path = root / f"{release}.pth"
        # the shape of an mmcv 1.x checkpoint: meta (numpy scalars included) and state_dict
        meta = {"epoch": 12, "CLASSES": ("a", "b", "c"), "best": __import__("numpy").float64(1)}
        torch.save({"meta": meta, "state_dict": _release_state(release, model)}, path)
        out[release] = path
        out[release + ":model"] = model
    ours = root / "ours.pth"
    torch.save({"state_dict": out["lors-release:model"].state_dict()}, ours)
    out["ours"] = ours
    return out


def _run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("release", list(CONFIGS))
def test_release_converts_and_loads_strictly(
    release: str, files: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dst = tmp_path / "converted.pth"
    code, out, err = _run(capsys, files[release], dst, "--config", CONFIGS[release])
    assert (code, err) == (0, "")
    total = count_params(load_config(CONFIGS[release]))["total"]
    assert f"parameters total   {total:>12,}" in out
    assert f"({release})" in out
    checkpoint = torch.load(dst, weights_only=True)
    assert checkpoint["meta"]["converted_from"] == release
    model = files[release + ":model"]
    model.load_state_dict(checkpoint["state_dict"], strict=True)  # raises on any mismatch
    expected = dict(model.state_dict())
    assert all(torch.equal(checkpoint["state_dict"][k], v) for k, v in expected.items())


def _truncated(files: dict[str, Any], tmp_path: Path) -> Path:
    path = tmp_path / "truncated.pth"
    path.write_bytes(files["lors-release"].read_bytes()[:4096])
    return path


def _renamed(files: dict[str, Any], tmp_path: Path) -> Path:
    state = torch.load(files["lors-release"], weights_only=False)["state_dict"]
    state["roi_head.adaptive_mixing.ml_param.0"] = state.pop(
        "roi_head.adaptive_mixing.ml_parameters.0"
    )
    path = tmp_path / "renamed.pth"
    torch.save({"state_dict": state}, path)
    return path


def _text(files: dict[str, Any], tmp_path: Path) -> Path:
    path = tmp_path / "notes.pth"
    path.write_text("not a checkpoint\n")
    return path


def _code(files: dict[str, Any], tmp_path: Path) -> Path:
    path = tmp_path / "code.pth"
    torch.save({"state_dict": {"x": torch.zeros(1)}, "hook": Unpicklable()}, path)
    return path


BAD = [
    # (name, make the input, extra arguments, a phrase the one line must hold)
    ("truncated", _truncated, [], "not a readable torch checkpoint"),
    ("text file", _text, [], "not a readable torch checkpoint"),
    ("objects beyond tensors", _code, [], "Unsupported global"),
    ("this project's own layout", lambda f, t: f["ours"], [], "already in this project's layout"),
    (
        "the other model (--from)",
        lambda f, t: f["adamixer-release"],
        ["--from", "lors-release"],
        "holds a adamixer-release checkpoint",
    ),
    (
        "the other model (--config)",
        lambda f, t: f["lors-release"],
        ["--config", str(CONFIGS["adamixer-release"])],
        "builds plain AdaMixer",
    ),
    (
        "a renamed key",
        _renamed,
        ["--config", str(CONFIGS["lors-release"])],
        "'roi_head.adaptive_mixing.ml_parameters.0' is missing",
    ),
]


@pytest.mark.parametrize(("name", "make", "extra", "phrase"), BAD, ids=[b[0] for b in BAD])
def test_bad_checkpoint_is_one_line_exit_2_nothing_written(
    name: str,
    make: Any,
    extra: list[str],
    phrase: str,
    files: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    src = make(files, tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    before = sorted(tmp_path.rglob("*"))
    code, out, err = _run(capsys, src, out_dir / "converted.pth", *extra)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert phrase in err
    assert sorted(tmp_path.rglob("*")) == before  # no output, no temporary file


def test_meta_build_matches_the_count_cli() -> None:
    cfg = load_config(CONFIGS["lors-release"])
    model = build_meta_model(cfg)
    assert sum(p.numel() for p in model.parameters()) == count_params(cfg)["total"]
