"""Validation of model.roi_head.lors_cfg and reading the knobs from a config (pure Python)."""

from __future__ import annotations

import sys

import pytest

from lors.adamixer_knobs import LORS_KEYS, LorsCfg, knobs_from_config, parse_lors_cfg
from lors.errors import ConfigError


def test_none_is_plain_adamixer() -> None:
    assert parse_lors_cfg(None, 6) is None


def test_release_settings_parse() -> None:
    raw = dict(
        adaptive=True,
        adaptive_rank=16,
        adaptive_groups=[1, 1, 2, 2, 3, 3],
        static=True,
        static_rank=8,
        parts="both",
    )
    assert parse_lors_cfg(raw, 6) == LorsCfg()


def test_int_groups_expand_to_every_stage() -> None:
    cfg = parse_lors_cfg(dict(adaptive_groups=2), 4)
    assert cfg is not None and cfg.adaptive_groups == (2, 2, 2, 2)


@pytest.mark.parametrize(
    ("raw", "num_stages", "expected"),
    [
        (dict(ranks=4), 6, "valid keys: " + str(list(LORS_KEYS))),
        (dict(adaptive_groups=[1, 2, 3]), 6, "expected 6 (model.roi_head.num_stages)"),
        (dict(adaptive_groups=[1, 1, 2, 2, 3, 3]), 3, "has 6 entries; expected 3"),
        (dict(adaptive_groups=0), 6, "adaptive_groups=0"),
        (dict(adaptive_groups=[1, 0]), 2, "every entry must be an int >= 1"),
        (dict(parts="all"), 6, "parts='all' must be one of ['both', 'shared', 'private']"),
        (dict(adaptive_rank=0), 6, "adaptive_rank=0 must be an int >= 1"),
        (dict(static="yes"), 6, "static='yes' must be True or False"),
        ("lors", 6, "must be None or a dict"),
    ],
)
def test_bad_lors_cfg_names_the_problem(raw: object, num_stages: int, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_lors_cfg(raw, num_stages)  # type: ignore[arg-type]
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        parse_lors_cfg(dict(bogus=1, parts="x", adaptive_rank=-1), 6)
    message = str(info.value)
    assert "bogus" in message and "parts='x'" in message and "adaptive_rank=-1" in message


def test_knobs_from_config_reads_the_contract_keys() -> None:
    cfg = {
        "model": {
            "rpn_head": {"num_queries": 300},
            "roi_head": {
                "num_stages": 2,
                "num_groups": 2,
                "in_points": 64,
                "out_points": 128,
                "lors_cfg": {"adaptive_groups": [1, 3]},
            },
        }
    }
    knobs = knobs_from_config(cfg)
    assert (knobs.num_stages, knobs.num_groups, knobs.in_points, knobs.num_queries) == (
        2,
        2,
        64,
        300,
    )
    assert knobs.lors_cfg is not None and knobs.lors_cfg.adaptive_groups == (1, 3)


def test_knobs_from_config_rejects_a_non_adamixer_config() -> None:
    with pytest.raises(ConfigError, match=r"model\.roi_head"):
        knobs_from_config({"model": {"type": "RetinaNet"}})


def test_planning_imports_no_torch() -> None:
    import subprocess

    code = "import sys, lors.adamixer_counting, lors.adamixer_knobs; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
