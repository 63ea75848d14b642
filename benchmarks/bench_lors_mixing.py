"""Benchmark one AdaMixer stage's adaptive mixing: plain, LORS as the release computes it, and ours.

At AdaMixer's paper shape (2 images x 300 queries = 600 query vectors, G = 2 groups, C_g = 128,
P_in = 64, P_out = 128, d_q = 256, r = 16) and for K = 1, 2, 3, it times forward + backward of

- (a) ``plain``: a per-stage Linear generating M and S (AdaMixer's own mixing),
- (b) ``materialized``: AdaptiveLORS forming the K per-query private matrices (the release),
- (c) ``factorized``: AdaptiveLORS with every weight factorized,
- (d) ``auto``: AdaptiveLORS's default, the path ``lors.layers.cost`` picks per weight,

each including its generators, the channel mixing ``X M``, the spatial mixing ``S X`` and the
LayerNorm + ReLU after each. It reports the median time over repeats and the bytes the forward
saves for backward (``torch.autograd.graph.saved_tensors_hooks``: distinct storages, parameters
excluded), as ratios to (b) and to (a), and checks the targets of issue 4 at K = 3.

Usage: ``python benchmarks/bench_lors_mixing.py [--device cuda] [--repeats 3] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lors.layers import AdaptiveLORS, WeightSpec

GROUPS, CHANNELS, IN_POINTS, OUT_POINTS, QUERY_DIM, RANK = 2, 128, 64, 128, 256, 16
VARIANTS = ("plain", "materialized", "factorized", "auto")
SPECS = [
    WeightSpec("M", GROUPS, CHANNELS, CHANNELS),
    WeightSpec("S", GROUPS, IN_POINTS, OUT_POINTS),
]


@dataclass(frozen=True)
class Measurement:
    """One variant at one K: median and spread of forward + backward time, saved bytes."""

    variant: str
    groups: int
    median_ms: float
    min_ms: float
    max_ms: float
    cpu_ms: float
    saved_bytes: int
    paths: str


def _norm_relu(y: torch.Tensor) -> torch.Tensor:
    return F.relu(F.layer_norm(y, y.shape[-2:]))  # LN over (points, channels) jointly, no affine


def plain_mixing(
    device: torch.device,
) -> tuple[Callable[[torch.Tensor, torch.Tensor], torch.Tensor], nn.Module]:
    """AdaMixer's mixing: one Linear generating M (C_g x C_g) and S per group."""
    gen = nn.Linear(QUERY_DIM, GROUPS * (CHANNELS**2 + IN_POINTS * OUT_POINTS)).to(device)

    def run(query: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        params = gen(query).view(query.shape[0], GROUPS, -1)  # (B, G*(Cg^2+Pin*Pout)) -> (B, G, .)
        m, s = params.split([CHANNELS**2, IN_POINTS * OUT_POINTS], dim=2)
        y = _norm_relu(x @ m.unflatten(2, (CHANNELS, CHANNELS)))  # (B, G, Pin, Cg)
        # (B, G, Pin, Cg) -> (B, G, Cg, Pin) @ (B, G, Pin, Pout) -> (B, G, Cg, Pout)
        return _norm_relu(y.transpose(-1, -2) @ s.unflatten(2, (IN_POINTS, OUT_POINTS)))

    return run, gen


def lors_mixing(
    device: torch.device, groups: int, path: str
) -> tuple[Callable[[torch.Tensor, torch.Tensor], torch.Tensor], AdaptiveLORS]:
    """The same mixing with LORS_A (one stage of a stack; private terms made non-zero)."""
    lors = AdaptiveLORS(QUERY_DIM, SPECS, num_layers=1, rank=RANK, groups=groups, path=path)
    lors = lors.to(device)
    with torch.no_grad():
        for p in lors.parameters():
            p.normal_(0.0, 0.02)

    def run(query: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        gen = lors(query, 0)
        y = _norm_relu(gen.apply("M", x))  # (B, G, Pin, Cg)
        return _norm_relu(gen.apply("S", y.transpose(-1, -2)))  # (B, G, Cg, Pout)

    return run, lors


def saved_bytes(fn: Callable[[], torch.Tensor], params: set[int]) -> int:
    """Bytes of the distinct storages the forward of ``fn`` saves for backward (no parameters)."""
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        s = t.untyped_storage()
        if s.data_ptr() not in params:
            storages[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    del out
    return sum(storages.values())


def measure(
    device: torch.device, ks: list[int], repeats: int, queries: int = 600
) -> list[Measurement]:
    """Time every variant at every K, variants interleaved within each repeat against drift."""
    gen = torch.Generator(device="cpu").manual_seed(0)
    query = torch.randn(queries, QUERY_DIM, generator=gen).to(device).requires_grad_()
    x = torch.randn(queries, GROUPS, IN_POINTS, CHANNELS, generator=gen).to(device)
    x.requires_grad_()
    results = []
    for k in ks:
        runs: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {}
        modules: dict[str, nn.Module] = {}
        runs["plain"], modules["plain"] = plain_mixing(device)
        for path in VARIANTS[1:]:
            runs[path], modules[path] = lors_mixing(device, k, path)
        times: dict[str, list[float]] = {v: [] for v in VARIANTS}
        cpu: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for rep in range(repeats + 1):  # the first round warms up and is dropped
            for v in VARIANTS:
                query.grad = x.grad = None
                modules[v].zero_grad(set_to_none=True)  # as a training step starts
                _sync(device)
                start, start_cpu = time.perf_counter(), time.process_time()
                runs[v](query, x).sum().backward()
                _sync(device)
                if rep:
                    times[v].append((time.perf_counter() - start) * 1e3)
                    cpu[v].append((time.process_time() - start_cpu) * 1e3)
        for v in VARIANTS:
            params = {p.untyped_storage().data_ptr() for p in modules[v].parameters()}
            run = runs[v]
            nbytes = saved_bytes(lambda run=run: run(query, x), params)  # type: ignore[misc]
            results.append(
                Measurement(
                    v,
                    k,
                    statistics.median(times[v]),
                    min(times[v]),
                    max(times[v]),
                    statistics.median(cpu[v]),
                    nbytes,
                    _paths(modules[v]),
                )
            )
    return results


def _paths(module: nn.Module) -> str:
    if not isinstance(module, AdaptiveLORS):
        return "-"
    gen = module(torch.zeros(1, QUERY_DIM, device=next(module.parameters()).device), 0)
    rows = {"M": IN_POINTS, "S": CHANNELS}
    return " ".join(f"{n}={gen.path_for(n, rows[n])}" for n in ("M", "S"))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


TARGETS = {  # issue 4, at K = 3: name -> (value, bound, higher is better)
    "speedup_vs_b": (1.8, True),
    "extra_bytes_vs_b_extra": (0.5, False),
    "time_vs_a": (1.2, False),
}


def _targets(by: dict[str, Measurement], variant: str, clock: str) -> dict[str, object]:
    """The issue's three targets for ``variant`` against (a) and (b), on one clock."""
    a, b, v = by["plain"], by["materialized"], by[variant]
    t_a, t_b, t_v = (getattr(m, clock) for m in (a, b, v))
    values = {
        "speedup_vs_b": t_b / t_v,
        "extra_bytes_vs_b_extra": (v.saved_bytes - a.saved_bytes) / (b.saved_bytes - a.saved_bytes),
        "time_vs_a": t_v / t_a,
    }
    met = {
        name: (values[name] >= bound) if higher else (values[name] <= bound)
        for name, (bound, higher) in TARGETS.items()
    }
    return {"variant": variant, "clock": clock, "K": v.groups, **values, "met": met}


def report(results: list[Measurement]) -> dict[str, object]:
    """Ratios to (b) and (a) per K, and the issue's targets at the largest K (wall and CPU)."""
    rows = []
    for k in sorted({r.groups for r in results}):
        by = {r.variant: r for r in results if r.groups == k}
        a, b = by["plain"], by["materialized"]
        for r in by.values():
            rows.append(
                {
                    **asdict(r),
                    "time_vs_b": r.median_ms / b.median_ms,
                    "time_vs_a": r.median_ms / a.median_ms,
                    "bytes_vs_b": r.saved_bytes / b.saved_bytes,
                    "bytes_vs_a": r.saved_bytes / a.saved_bytes,
                }
            )
    by = {r.variant: r for r in results if r.groups == max(r.groups for r in results)}
    targets = [
        _targets(by, v, clock) for v in ("factorized", "auto") for clock in ("median_ms", "cpu_ms")
    ]
    return {"rows": rows, "targets": targets}


def print_table(
    summary: dict[str, object], device: torch.device, repeats: int, queries: int
) -> None:
    threads = torch.get_num_threads() if device.type == "cpu" else None
    print(
        f"device={device} threads={threads} queries={queries} repeats={repeats} "
        f"torch={torch.__version__}"
    )
    head = f"{'K':>2} {'variant':<13}{'median ms':>10}{'min-max ms':>12}{'cpu ms':>8}"
    head += f"{'t/b':>6}{'t/a':>6}"
    print(head + f"{'saved MiB':>10}{'B/b':>6}{'B/a':>6}  paths")
    for r in summary["rows"]:  # type: ignore[attr-defined]
        spread = f"{r['min_ms']:.0f}-{r['max_ms']:.0f}"
        print(
            f"{r['groups']:>2} {r['variant']:<13}{r['median_ms']:>10.1f}{spread:>12}"
            f"{r['cpu_ms']:>8.0f}{r['time_vs_b']:>6.2f}{r['time_vs_a']:>6.2f}"
            f"{r['saved_bytes'] / 2**20:>10.1f}{r['bytes_vs_b']:>6.2f}{r['bytes_vs_a']:>6.2f}"
            f"  {r['paths']}"
        )
    for t in summary["targets"]:  # type: ignore[attr-defined]
        met = ", ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in t["met"].items())
        clock = "wall" if t["clock"] == "median_ms" else "cpu"
        print(
            f"K={t['K']} {t['variant']} ({clock}): {t['speedup_vs_b']:.2f}x faster than (b), "
            f"{t['time_vs_a']:.2f}x the time of (a), extra saved bytes "
            f"{t['extra_bytes_vs_b_extra']:.2f} of (b)'s -> {met}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--groups", type=int, nargs="+", default=[1, 2, 3], help="values of K")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (after 1 warm-up)")
    parser.add_argument(
        "--queries", type=int, default=600, help="query vectors (images x queries; paper: 600)"
    )
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.device not in ("cpu", "cuda") or (
        args.device == "cuda" and not torch.cuda.is_available()
    ):
        print(
            f"--device {args.device!r} is not available: use cpu or cuda (with CUDA)",
            file=sys.stderr,
        )
        return 2
    if min(args.repeats, args.queries, *args.groups) < 1:
        print(
            f"--repeats {args.repeats}, --queries {args.queries} and --groups {args.groups} "
            "must be >= 1",
            file=sys.stderr,
        )
        return 2
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    summary = report(measure(device, args.groups, args.repeats, args.queries))
    if args.json:
        meta = {"device": str(device), "repeats": args.repeats, "queries": args.queries}
        print(json.dumps({**meta, **summary}, indent=1))
    else:
        print_table(summary, device, args.repeats, args.queries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
