"""Building tables from cell states: seeds merged, placeholders, holes, bold, Δ, and bad layouts."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import pytest

from analysis.errors import TableSpecError
from analysis.layout import CellState, TableLayout, seedless
from analysis.table import Entry, Table, build_table, sample_std
from tests.analysis.factory import cell_state, missing_state, record_dict

K, R = "adaptive_groups", "adaptive_rank"
AXES = {K: ["1", "2"], R: ["8", "16"]}


def layout(**changes: Any) -> TableLayout:
    base: dict[str, Any] = dict(
        sweep="demo", title="Demo", label="tab:demo", rows=K, columns=R, metrics=("bbox_mAP",)
    )
    return TableLayout.make(**{**base, **changes})


def done(root: Path, k: str, r: str, seed: int | None, ap: float | None, **kw: Any) -> CellState:
    return cell_state(root, record_dict({K: k, R: r}, seed, ap=ap, **kw))


def entry(table: Table, row: str, col: Any) -> Entry:
    return table.frame.at[row, col]


def test_seeds_merge_into_mean_std_and_count(tmp_path: Path) -> None:
    aps = [0.421, 0.425, 0.430]
    cells = [done(tmp_path, "1", "8", s, ap) for s, ap in enumerate(aps)]
    table = build_table(layout(), AXES, cells)
    e = entry(table, "1", ("8", "bbox_mAP"))
    assert e.state == "done" and e.n == 3 and e.expected == 3
    assert e.mean == pytest.approx(100 * statistics.fmean(aps))
    assert e.std == pytest.approx(100 * statistics.stdev(aps))
    assert table.complete


def test_rows_and_columns_follow_spec_order_not_cell_order(tmp_path: Path) -> None:
    cells = [done(tmp_path, k, r, None, 0.4) for k in ("2", "1") for r in ("16", "8")]
    table = build_table(layout(), AXES, cells)
    assert list(table.frame.index) == ["1", "2"]
    assert [c[0] for c in table.frame.columns] == ["8", "16"]


@pytest.mark.parametrize(
    ("statuses", "shown"),
    [
        (["new"], "missing"),
        (["queued"], "queued"),
        (["running"], "running"),
        (["failed"], "failed"),
        (["stale"], "stale"),
        (["new", "running", "failed"], "failed"),  # the most urgent state wins
        (["stale", "running"], "stale"),
        (["corrupt", "failed"], "corrupt"),
    ],
)
def test_a_cell_with_no_value_shows_its_state(
    tmp_path: Path, statuses: list[str], shown: str
) -> None:
    cells = []
    for seed, status in enumerate(statuses):
        if status == "new":
            cells.append(missing_state({K: "1", R: "8"}, seed))
        else:
            raw = record_dict(
                {K: "1", R: "8"},
                seed,
                status="failed"
                if status == "corrupt"
                else ("done" if status == "stale" else status),
            )
            cells.append(cell_state(tmp_path, raw, status=status))
    table = build_table(layout(), AXES, cells)
    e = entry(table, "1", ("8", "bbox_mAP"))
    assert e.state == shown and e.mean is None
    assert {p.label for p in table.problems} == {c.label for c in cells}
    assert all(p.run_id for p in table.problems)


def test_some_seeds_done_is_partial_and_listed(tmp_path: Path) -> None:
    cells = [
        done(tmp_path, "1", "8", 0, 0.40),
        done(tmp_path, "1", "8", 1, 0.42),
        missing_state({K: "1", R: "8"}, 2),
    ]
    table = build_table(layout(), AXES, cells)
    e = entry(table, "1", ("8", "bbox_mAP"))
    assert (e.state, e.n, e.expected) == ("partial", 2, 3)
    assert e.mean == pytest.approx(41.0)
    assert [p.label for p in table.problems] == [cells[2].label]
    assert not table.complete


def test_null_metric_of_a_done_run_is_no_value_not_zero(tmp_path: Path) -> None:
    table = build_table(layout(), AXES, [done(tmp_path, "1", "8", None, None)])
    e = entry(table, "1", ("8", "bbox_mAP"))
    assert e.state == "no value" and e.mean is None
    assert "no value in the record" in (table.problems[0].detail or "")


def test_positions_without_a_cell_are_holes(tmp_path: Path) -> None:
    # one_at_a_time: K varies at r=8, r varies at K=1; (K=2, r=16) is not in the sweep
    cells = [done(tmp_path, k, r, None, 0.4) for k, r in (("1", "8"), ("2", "8"), ("1", "16"))]
    table = build_table(layout(), AXES, cells)
    assert entry(table, "2", ("16", "bbox_mAP")).state == "hole"
    assert table.complete


def test_best_per_column_is_bold_with_ties_and_direction(tmp_path: Path) -> None:
    p = {"roi_head": 9_000_000, "total": 1}
    cells = [
        done(tmp_path, "1", "8", None, 0.4001, params=p),
        done(tmp_path, "2", "8", None, 0.4004, params={**p, "roi_head": 9_500_000}),
        done(tmp_path, "1", "16", None, 0.41),
        missing_state({K: "2", R: "16"}, None),
    ]
    table = build_table(layout(metrics=("params.roi_head", "bbox_mAP")), AXES, cells)
    # 40.01 and 40.04 both print 40.0: a tie, both bold; fewer parameters are better
    assert entry(table, "1", ("8", "bbox_mAP")).best and entry(table, "2", ("8", "bbox_mAP")).best
    assert entry(table, "1", ("8", "params.roi_head")).best
    assert not entry(table, "2", ("8", "params.roi_head")).best
    # one done value in a column is not "best" of anything
    assert not entry(table, "1", ("16", "bbox_mAP")).best


def test_delta_against_baseline_row(tmp_path: Path) -> None:
    cells = [
        done(tmp_path, "1", "8", None, 0.40),
        done(tmp_path, "2", "8", None, 0.425),
        done(tmp_path, "1", "16", None, 0.41),
        missing_state({K: "2", R: "16"}, None),
    ]
    table = build_table(layout(baseline={K: "1"}, delta="bbox_mAP"), AXES, cells)
    assert entry(table, "1", ("8", "delta:bbox_mAP")).state == "baseline"
    d = entry(table, "2", ("8", "delta:bbox_mAP"))
    assert d.state == "done" and d.mean == pytest.approx(2.5)
    assert entry(table, "2", ("16", "delta:bbox_mAP")).state == "missing"


def test_delta_is_tested_against_seed_noise(tmp_path: Path) -> None:
    """Row 2 gains 0.3 AP in column 8 with 1 AP of seed spread (within noise) and 5 AP in column
    16 with 0.2 AP of spread (beyond it); the texts, the CSV and the caption say which is which."""
    from analysis.render import render

    aps = {
        ("1", "8"): [0.400, 0.410, 0.420],
        ("2", "8"): [0.403, 0.413, 0.423],
        ("1", "16"): [0.400, 0.402, 0.404],
        ("2", "16"): [0.450, 0.452, 0.454],
    }
    cells = [done(tmp_path, k, r, s, ap) for (k, r), v in aps.items() for s, ap in enumerate(v)]
    table = build_table(layout(baseline={K: "1"}, delta="bbox_mAP"), AXES, cells)
    noisy, clear = (
        entry(table, "2", ("8", "delta:bbox_mAP")),
        entry(table, "2", ("16", "delta:bbox_mAP")),
    )
    assert noisy.mean == pytest.approx(0.3) and noisy.p_value is not None and noisy.p_value > 0.5
    assert clear.mean == pytest.approx(5.0) and clear.p_value is not None and clear.p_value < 1e-3
    md = render(table, "md")
    assert "| 2 | **41.3** ± 1.0 (3) | +0.3 (ns) | **45.2** ± 0.2 (3) | +5.0 |" in md
    assert "ns marks a difference within seed noise (Welch's t-test, two-sided, p ≥ 0.05)" in md
    assert r"$+$0.3\textsuperscript{ns}" in render(table, "latex")
    csv_rows = render(table, "csv").splitlines()
    assert csv_rows[0].split(",")[1:6] == [
        "AP (r=8)",
        "AP (r=8) std",
        "AP (r=8) n",
        "ΔAP (r=8)",
        "ΔAP (r=8) p",
    ]
    assert csv_rows[2].split(",")[1:4] == ["41.300", "1.000", "3"]
    assert float(csv_rows[2].split(",")[5]) == pytest.approx(noisy.p_value, abs=1e-4)


def test_a_single_seed_delta_is_untested(tmp_path: Path) -> None:
    from analysis.render import render

    cells = [done(tmp_path, "1", "8", None, 0.40), done(tmp_path, "2", "8", None, 0.425)]
    table = build_table(layout(baseline={K: "1"}, delta="bbox_mAP"), AXES, cells)
    assert entry(table, "2", ("8", "delta:bbox_mAP")).p_value is None
    md = render(table, "md")
    assert "+2.5 |" in md and "(ns)" not in md.split("\n\n")[1]
    assert "a difference with a single seed on either side is not tested" in md


def test_delta_with_metric_columns_and_label_rows(tmp_path: Path) -> None:
    cells = [done(tmp_path, "1", "8", None, 0.40), done(tmp_path, "2", "16", None, 0.43)]
    lay = layout(rows="label", columns="metrics", baseline={"label": "K=1, r=8"}, delta="bbox_mAP")
    table = build_table(lay, AXES, cells)
    assert list(table.frame.index) == ["K=1, r=8", "K=2, r=16"]
    assert entry(table, "K=2, r=16", "delta:bbox_mAP").mean == pytest.approx(3.0)


@pytest.mark.parametrize("baseline", [{K: "9"}, {K: "1", R: "32"}])
def test_baseline_left_out_by_the_profile_drops_the_delta_column(
    tmp_path: Path, baseline: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    cells = [done(tmp_path, "1", "8", None, 0.4), done(tmp_path, "2", "8", None, 0.41)]
    table = build_table(layout(baseline=baseline, delta="bbox_mAP"), AXES, cells)
    assert "delta:bbox_mAP" not in set(table.frame.columns.get_level_values(1))
    assert "bbox_mAP" in set(table.frame.columns.get_level_values(1))
    assert "is not among this profile's cells; the Δ column is left out" in caplog.text
    assert table.complete  # a missing baseline is the spec's choice, not a run to wait for


def test_seedless_label() -> None:
    assert seedless("K=2,r=16,seed=0") == "K=2,r=16"
    assert seedless("seed=3") == ""
    assert seedless("method=plain") == "method=plain"


BAD_LAYOUTS = [
    (dict(metrics=("bbox_AP",)), "unknown metric 'bbox_AP'"),
    (dict(metrics=()), "table.metrics: empty"),
    (dict(kind="pictures"), "table.kind: 'pictures' is not valid"),
    (dict(rows=R), "rows and columns are both"),
    (dict(rows="metrics", columns=K), "'metrics' can only be used as table.columns"),
    (dict(delta="bbox_mAP"), "'delta' and 'baseline' go together"),
    (dict(baseline={K: "1"}, delta="bbox_mAP_50"), "table.delta: 'bbox_mAP_50' is not one of"),
    (dict(metrics=("counts.lors_a",)), "unknown metric 'counts.lors_a' for a runs table"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_LAYOUTS, ids=[m for _, m in BAD_LAYOUTS])
def test_bad_layout_is_rejected_with_the_key(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(TableSpecError, match=message.replace("(", r"\(")):
        layout(**changes)


def test_build_errors_name_the_problem(tmp_path: Path) -> None:
    cells = [done(tmp_path, "1", "8", None, 0.4), done(tmp_path, "2", "8", None, 0.41)]
    with pytest.raises(TableSpecError, match=r"table\.rows: 'depth' is not an axis"):
        build_table(layout(rows="depth"), AXES, cells)
    with pytest.raises(TableSpecError, match=r"table\.baseline: .* matches 2 rows"):
        build_table(
            layout(rows="label", columns="metrics", baseline={R: "8"}, delta="bbox_mAP"),
            AXES,
            cells,
        )
    with pytest.raises(TableSpecError, match=r"no record of sweep 'demo' has 'params\.neck'"):
        build_table(layout(metrics=("params.neck",)), AXES, cells)
    with pytest.raises(TableSpecError, match="both land in row '1'"):
        build_table(layout(columns="metrics"), AXES, [*cells, done(tmp_path, "1", "16", 0, 0.4)])


@pytest.mark.parametrize("values", [[0.1], [42.1, 42.5], [1e-3, 2e-3, 7e-3, 4e-3], [5.0] * 4])
def test_sample_std_agrees_with_statistics(values: list[float]) -> None:
    got = sample_std(values)
    if len(values) < 2:
        assert got is None
    else:
        assert got == pytest.approx(statistics.stdev(values), abs=1e-12)
