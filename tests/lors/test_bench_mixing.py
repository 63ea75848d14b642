"""benchmarks/bench_lors_mixing.py runs end to end (few queries) and reports what it measured."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_lors_mixing.py"


@pytest.fixture(scope="module")
def bench() -> dict[str, Any]:
    return runpy.run_path(str(BENCH))


def test_json_report(bench: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert bench["main"](["--groups", "1", "3", "--repeats", "1", "--queries", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {(r["groups"], r["variant"]): r for r in out["rows"]}
    assert set(rows) == {(k, v) for k in (1, 3) for v in bench["VARIANTS"]}
    for k in (1, 3):
        a, b = rows[(k, "plain")], rows[(k, "materialized")]
        assert b["time_vs_b"] == 1.0 and a["time_vs_a"] == 1.0
        # the release's form saves more for backward than plain AdaMixer, and than ours
        assert b["saved_bytes"] > a["saved_bytes"]
        assert rows[(k, "factorized")]["saved_bytes"] < b["saved_bytes"]
        assert rows[(k, "auto")]["paths"] == "M=factorized S=fused"
    targets = {(t["variant"], t["clock"]): t for t in out["targets"]}
    assert set(targets) == {(v, c) for v in ("factorized", "auto") for c in ("median_ms", "cpu_ms")}
    assert all(t["K"] == 3 and len(t["met"]) == 3 for t in targets.values())


def test_saved_bytes_counts_distinct_storages(bench: dict[str, Any]) -> None:
    import torch

    w = torch.nn.Parameter(torch.randn(3, 3))
    x = torch.randn(5, 3, requires_grad=True)
    # x @ w saves x and w (a parameter: not counted); x * x saves x twice (counted once)
    nbytes = bench["saved_bytes"](lambda: (x @ w).sum() + (x * x).sum(), {w.data_ptr()})
    assert nbytes == x.numel() * 4


def test_bad_device_is_one_line_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--device", "tpu"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "--device 'tpu'" in proc.stderr
    assert "Traceback" not in proc.stderr
