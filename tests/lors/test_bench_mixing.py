"""benchmarks/bench_lors_mixing.py: the release-form baseline computes what LORS computes, and the
whole-decoder benchmark runs end to end (one stage, few queries) and reports what it measured."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
import torch

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_lors_mixing.py"


@pytest.fixture(scope="module")
def bench() -> dict[str, Any]:
    return runpy.run_path(str(BENCH))


def test_release_form_equals_the_materialized_form(bench: dict[str, Any]) -> None:
    """Same parameter values in the release's layout: same outputs and gradients (fp32)."""
    block = bench["build"]("materialized", (1, 3), 16, "adaptive")
    release = bench["ReleaseForm"](block.generator)
    query = torch.randn(3, 256, generator=torch.Generator().manual_seed(0)).requires_grad_()
    outs, grads = [], []
    for gen in (block.generator, release):
        query.grad = None
        y = [gen(query, i).apply("M", torch.ones(3, 2, 64, 128)) for i in range(2)]
        torch.stack([t.square().mean() for t in y]).sum().backward()
        outs.append(torch.cat([t.flatten() for t in y]))
        grads.append(query.grad.clone())
    scale = outs[0].abs().max().item()
    torch.testing.assert_close(outs[1], outs[0], rtol=1e-5, atol=1e-5 * scale)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-4, atol=1e-6)


def test_measure_reports_every_variant(bench: dict[str, Any]) -> None:
    r = bench["measure"](torch.device("cpu"), (2,), 8, 1, 4, "adaptive")
    assert set(r) == set(bench["VARIANTS"])
    m = r["auto"]
    assert m.min_ms <= m.median_ms <= m.max_ms and m.cpu_ms > 0
    # the release form saves the K per-query private matrices; ours does not
    assert r["release"].saved_bytes > r["factorized"].saved_bytes > 0
    assert m.paths == "0:factorized/fused"
    values = bench["ratios"](r)
    assert set(values) == set(bench["TARGETS"])
    assert "NOT met" in bench["verdict"]({**values, "auto_vs_plain": 9.0})


def test_saved_bytes_counts_distinct_storages(bench: dict[str, Any]) -> None:
    w = torch.nn.Parameter(torch.randn(3, 3))
    x = torch.randn(5, 3, requires_grad=True)
    # x @ w saves x and w (a parameter: not counted); x * x saves x twice (counted once)
    nbytes = bench["saved_bytes"](lambda: (x @ w).sum() + (x * x).sum(), {w.data_ptr()})
    assert nbytes == x.numel() * 4
