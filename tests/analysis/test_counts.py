"""Count tables (Table 1) and the count curves: numbers against the closed forms of method.md,
written out by hand here, and Table 1 from a clean checkout with no runs at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analysis.counts import depth_curves, knobs_from, rank_curve, stacks
from analysis.errors import TableSpecError
from analysis.make_tables import main
from lors.adamixer_knobs import LORS_KEY, checked_knobs, config_from_overrides
from lors.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
ROI = "model.roi_head."
RELEASE = {ROI + "num_groups": 2, ROI + "in_points": 64, ROI + "out_points": 128}


@pytest.mark.parametrize("n", [1, 2, 6, 12])
@pytest.mark.parametrize(("rank", "groups", "static_rank"), [(16, 1, 8), (8, 2, 4), (32, 3, 16)])
def test_table1_counts_match_method_formulas(
    n: int, rank: int, groups: int, static_rank: int
) -> None:
    knobs = knobs_from(
        {
            **RELEASE,
            ROI + "num_stages": n,
            ROI + "lors_cfg": {
                "adaptive_rank": rank,
                "adaptive_groups": groups,
                "static_rank": static_rank,
            },
        }
    )
    got = {k: c.per_layer for k, (c, _) in stacks(knobs).items()}
    d_q, g, p_in, p_out, c = 256, 2, 64, 128, 256
    d_in = g * p_out * (c // g)  # output projection input: 32768
    # method.md section 1: LORS_T and plain static stacking
    assert got["counts.plain_static"] == d_in * c + c
    assert got["counts.lors_t"] == pytest.approx(
        (d_in * c + n * (static_rank * (d_in + c) + c)) / n
    )
    # method.md section 2, on the ASM weight S (G copies of P_in x P_out)
    assert got["counts.plain_adaptive"] == (d_q + 1) * g * p_in * p_out
    private = groups * g * (rank * (p_in + p_out) + (d_q + 1) * rank * rank)
    assert got["counts.lors_a"] == pytest.approx(((d_q + 1) * g * p_in * p_out + n * private) / n)


def test_knobs_read_dotted_and_whole_lors_cfg() -> None:
    dotted = knobs_from(
        {
            ROI + "num_stages": 2,
            ROI + "lors_cfg.adaptive_rank": 4,
            ROI + "lors_cfg.adaptive_groups": [1, 2],
        }
    )
    assert dotted.lors_cfg is not None
    assert dotted.lors_cfg.adaptive_rank == 4 and dotted.lors_cfg.adaptive_groups == (1, 2)
    whole = knobs_from({ROI + "lors_cfg": {"static_rank": 2}, ROI + "num_stages": 3})
    assert whole.lors_cfg is not None
    assert whole.lors_cfg.static_rank == 2 and whole.num_stages == 3
    assert whole.lors_cfg.adaptive_groups == (1, 1, 1)  # K = 1 unless the spec says otherwise
    both = knobs_from({ROI + "lors_cfg": {"static_rank": 2}, ROI + "lors_cfg.static_rank": 5})
    assert both.lors_cfg is not None and both.lors_cfg.static_rank == 5


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({ROI + "num_stages": "six"}, "model.roi_head.num_stages='six' must be an int >= 1"),
        ({ROI + "num_stages": 6.5}, "model.roi_head.num_stages=6.5 must be an int >= 1"),
        ({ROI + "lors_cfg.adaptive_rank": 0}, "adaptive_rank=0 must be an int >= 1"),
        ({ROI + "lors_cfg.adaptive_rank": "16"}, "adaptive_rank='16' must be an int >= 1"),
        ({ROI + "lors_cfg.parts": "all"}, "parts='all' must be one of"),
        ({ROI + "lors_cfg.adaptive_groups": [1, 2]}, "expected 6 (model.roi_head.num_stages)"),
        ({ROI + "lors_cfg.adaptive_rank": 64}, "adaptive_rank=64 exceeds the dimensions"),
        ({ROI + "num_groups": 3}, "num_groups=3 must divide content_dim=256"),
    ],
)
def test_bad_knobs_fail_with_the_knob_contract_message(
    overrides: dict[str, Any], message: str
) -> None:
    """The count tables read knobs through lors.adamixer_knobs: a bad value gets the message a
    spec would get for it, not a bare int() error."""
    with pytest.raises(TableSpecError) as info:
        knobs_from(overrides)
    assert message in str(info.value)
    with pytest.raises(ConfigError) as spec_side:  # the same words the spec checker reports
        checked_knobs(config_from_overrides({LORS_KEY: {}, **overrides}))
    assert str(spec_side.value) == str(info.value)


def test_depth_curves_agree_with_the_table_cells() -> None:
    curves = depth_curves(RELEASE, [1, 6])
    six = {
        k: c.per_layer / 1e6
        for k, (c, _) in stacks(knobs_from({**RELEASE, ROI + "num_stages": 6})).items()
    }
    assert curves[0].plain_m[1] == pytest.approx(six["counts.plain_static"])
    assert curves[0].lors_m[1] == pytest.approx(six["counts.lors_t"])
    assert curves[1].lors_m[1] == pytest.approx(six["counts.lors_a"])
    assert curves[0].lors_m[0] > curves[0].plain_m[0] > curves[0].lors_m[1]  # sharing pays at N>1


def test_rank_curve_grows_with_rank_and_groups_and_stays_under_plain() -> None:
    curve = rank_curve(RELEASE, [4, 16, 32])
    for values in curve.by_groups.values():
        assert list(values) == sorted(values)
    assert curve.by_groups[1][1] < curve.by_groups[2][1] < curve.by_groups[3][1]
    # the release setting (r = 16) keeps the decoder near 30 % of plain AdaMixer's 110.27 M
    assert curve.plain_m == pytest.approx(110.272296)
    assert 0.25 < curve.by_groups[2][1] / curve.plain_m < 0.40


def test_table1_from_a_clean_checkout(tmp_path: Path, capsys: Any) -> None:
    out, figs = tmp_path / "tables", tmp_path / "figures"
    args = [
        str(REPO / "sweeps" / "table1.yaml"),
        "--out",
        str(out),
        "--figures",
        str(figs),
        "--runs-dir",
        str(tmp_path / "no-runs"),
        "--strict",
    ]
    assert main(args) == 0
    md = (out / "table1.md").read_text()
    assert "| 6 | 8.39 | 1.66 | 4.21 | 0.84 |" in md
    assert sorted(p.name for p in figs.iterdir()) == [
        "table1-depth.pdf",
        "table1-depth.png",
        "table1-rank.pdf",
        "table1-rank.png",
    ]
    assert capsys.readouterr().err == ""


def test_all_builds_every_spec_with_a_table_and_skips_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    sweeps = tmp_path / "sweeps"
    (sweeps / "examples").mkdir(parents=True)
    table1 = (REPO / "sweeps" / "table1.yaml").read_text()
    (sweeps / "table1.yaml").write_text(table1)
    untabled = table1.split("\ntable:")[0].replace("name: table1", "name: untabled")
    base = REPO / "configs" / "smoke" / "adamixer_lors_smoke.py"
    (sweeps / "examples" / "untabled.yaml").write_text(f"base: {base}\n{untabled}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["--all", "--no-figures"]) == 0
    assert sorted(p.name for p in (tmp_path / "outputs" / "tables").iterdir()) == [
        "table1.csv",
        "table1.md",
        "table1.provenance.json",
        "table1.tex",
    ]
    assert "untabled" not in capsys.readouterr().out
