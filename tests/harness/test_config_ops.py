"""Overrides on plain config dicts: mmengine's merge semantics, copy-on-write sharing."""

from __future__ import annotations

import copy

import pytest

from harness.spec.config import PathError, apply_overrides, has_key, lookup, merge

BASE = {
    "model": {"roi_head": {"num_stages": 6, "lors_cfg": None, "heads": [{"w": 1}, {"w": 2}]}},
    "optim": {"lr": 0.1, "betas": [0.9, 0.99]},
}


@pytest.mark.parametrize(
    ("overrides", "key", "expected"),
    [
        ({"model.roi_head.num_stages": 3}, "model.roi_head.num_stages", 3),
        (
            {"model.roi_head.lors_cfg": {"adaptive_rank": 8}},
            "model.roi_head.lors_cfg",
            {"adaptive_rank": 8},
        ),
        ({"model.roi_head.heads.1.w": 5}, "model.roi_head.heads.1.w", 5),
        ({"optim": {"lr": 0.2}}, "optim", {"lr": 0.2, "betas": [0.9, 0.99]}),
        ({"optim": {"_delete_": True, "lr": 0.2}}, "optim", {"lr": 0.2}),
        ({"optim.betas": (0.8, 0.9)}, "optim.betas", (0.8, 0.9)),
        (
            {
                "model.roi_head.lors_cfg": {"adaptive_rank": 8},
                "model.roi_head.lors_cfg.static": True,
            },
            "model.roi_head.lors_cfg",
            {"adaptive_rank": 8, "static": True},
        ),
    ],
)
def test_apply_overrides_merges_like_mmengine(overrides, key, expected) -> None:
    before = copy.deepcopy(BASE)
    out = apply_overrides(BASE, overrides)
    assert lookup(out, key) == expected
    assert before == BASE  # the base is never modified


def test_tuples_survive_loading_and_list_overrides() -> None:
    # mmcv's Resize rejects a list scale: the config a job trains must keep the config's tuples
    from pathlib import Path

    from harness.spec.config import load_config

    repo = Path(__file__).resolve().parents[2]
    cfg = load_config(repo / "configs" / "smoke" / "adamixer_smoke.py")
    resize = next(t for t in cfg["train_pipeline"] if t["type"] == "Resize")
    assert resize["scale"] == (128, 128) and isinstance(resize["scale"], tuple)
    out = apply_overrides({"r": {"scale": (1, 2)}}, {"r.scale": [3, 4]})  # YAML gives lists
    assert out["r"]["scale"] == (3, 4)
    assert apply_overrides({"t": (1, (2, 3))}, {"t.1.0": 9})["t"] == (1, (9, 3))


def test_untouched_containers_are_shared() -> None:
    out = apply_overrides(BASE, {"model.roi_head.num_stages": 2})
    assert out["optim"] is BASE["optim"]
    assert out["model"] is not BASE["model"]
    assert out["model"]["roi_head"]["heads"] is BASE["model"]["roi_head"]["heads"]


def test_lookup_error_lists_valid_keys() -> None:
    with pytest.raises(PathError) as err:
        lookup(BASE, "model.roi_head.num_stage")
    assert "num_stages" in str(err.value) and "model.roi_head" in str(err.value)
    assert not has_key(BASE, "model.neck") and has_key(BASE, "model.roi_head.lors_cfg")


def test_merge_replaces_non_dict() -> None:
    assert merge({"a": 1}, None) == {"a": 1}
    assert merge(3, {"a": 1}) == 3
