"""Cost model that picks, per generated weight, how LORS_A applies it (``path="auto"``).

Every path computes ``y = x W(q)`` for one weight spec, with ``x`` of shape ``(n, d_in)`` per
query and group and ``W(q) = W_shared(q) + sum_k L_k Z_k(q) R_k`` (``m = K r`` columns in the
private factors). The model counts, per query and group and for forward plus backward, what each
path does *beyond* the shared product ``x W_shared`` that all of them pay:

- ``materialized`` (the release): forms ``L_k Z_k`` and the K matrices ``(L_k Z_k) R_k``
  (d_in x d_out each, inner size r) from copies of L and R broadcast to every query, stacks them
  with the shared weight and sums; backward runs the same products for dP and dR and expands the
  gradient back over the K + 1 stacked matrices.
- ``fused`` (lors.layers.fused): forms ``P = L Z`` (d_in x m) and ``W = W_shared + P R`` in one
  product of inner size m; backward forms both again, then ``dP = dW R^T`` and ``dR = P^T dW``.
- ``factorized`` (lors.layers.factorized): ``u = x L`` (n x m) and ``Q = Z R`` (m x d_out), the
  private term ``u Q`` added to the shared product; backward forms u and Q again, then dQ, du,
  dL, dx and the cores' gradients.

Cost = FLOPs + ``balance`` x bytes moved + ``launch_flops`` x kernel calls / (queries x groups),
``balance`` being the machine's FLOPs per byte of memory traffic (about 10 to 30 for the CPUs and
GPUs this project runs on) and ``launch_flops`` what one call costs in FLOPs it could have done
instead, shared by the B c (query, group) pairs of the call. ``DEVICES`` holds both per device
kind: on a CPU a call is cheap against the products of AdaMixer's shapes (left out); on a GPU it
is not, so the paths with per-group and per-pair loops (fused, factorized) lose at small batches
and small K. It is a coarse model. Without the calls (the CPU) it ranks ``materialized`` last
everywhere, prefers ``fused`` when x has many rows per query (AdaMixer's S: n = C_g = 128 rows
against d_in = P_in = 64) and ``factorized`` when the weight is large against them (M: n = 64,
d_in = d_out = 128); benchmarks/bench_lors_mixing.py measures what it decides. Ties go to
``factorized``, which forms the smallest per-query tensors.

The CPU ranking was checked on a 2-core Xeon at K = 3, 600 queries, forward + backward of one
weight alone (M: factorized 151 ms, fused 244 ms; S: fused 163 ms, factorized 236 ms). The CUDA
figures are estimates, not measurements: launch_flops ~ 10 us of an H200's fp32 rate, set so that
the one H200 figure on record (issue 14: the per-group paths slower than the release's form at
K = 3) comes out the same; run the benchmark on a GPU to calibrate them.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BALANCE = 12.0
"""FLOPs per byte of memory traffic at which both sides of the model cost the same."""

PATH_ORDER: tuple[str, ...] = ("factorized", "fused", "materialized")
"""The paths the model ranks, in the order ties are broken."""


@dataclass(frozen=True)
class DeviceModel:
    """What one device kind charges beyond FLOPs.

    Attributes:
        balance: FLOPs per byte of memory traffic.
        launch_flops: FLOPs one kernel call costs (dispatch and launch).
    """

    balance: float
    launch_flops: float


DEVICES: dict[str, DeviceModel] = {
    # a call's ~10 us of dispatch is under 1 % of a product at AdaMixer's shapes: left out
    "cpu": DeviceModel(balance=DEFAULT_BALANCE, launch_flops=0.0),
    # ~10 us of launch and synchronisation at ~60 TFLOP/s fp32 (an estimate: see above)
    "cuda": DeviceModel(balance=14.0, launch_flops=6e8),
}


def launches(path: str, groups: int, count: int) -> int:
    """Kernel calls of one path, forward + backward, for K = ``groups`` and ``count`` groups."""
    if path == "materialized":
        return 24  # a fixed chain of batched products, stacks and sums, whatever K
    if path == "fused":
        return count * (4 * groups + 9) + 6  # per group: K core products, the weight, its grads
    return count * (4 * groups + 14) + 4  # factorized: per group also the copies of x and dy


@dataclass(frozen=True)
class PathCost:
    """Estimated extra work of one path for one weight, per query and group, forward + backward.

    Attributes:
        path: ``materialized``, ``fused`` or ``factorized``.
        flops: floating-point operations (a multiply-add counts 2).
        bytes: bytes written and read by the tensors the path forms.
        cost: ``flops + balance * bytes``.
    """

    path: str
    flops: int
    bytes: int
    cost: float


def path_costs(
    n: int,
    d_in: int,
    d_out: int,
    groups: int,
    rank: int,
    element_bytes: int = 4,
    balance: float = DEFAULT_BALANCE,
    launch_flops: float = 0.0,
    calls: tuple[int, int] | None = None,
) -> dict[str, PathCost]:
    """Cost of each path for one weight spec (see the module docstring for what is counted).

    Args:
        n: rows of ``x`` per query and group (AdaMixer: P_in for M, C_g for S).
        d_in: rows of the generated weight.
        d_out: columns of the generated weight.
        groups: K, low-rank pairs of the layer.
        rank: r.
        element_bytes: bytes per element (4 for fp32, 2 under fp16/bf16 autocast).
        balance: FLOPs per byte of traffic of the machine.
        launch_flops: FLOPs one kernel call costs (``DeviceModel.launch_flops``).
        calls: ``(batch, count)``, queries and groups of one call, to share the calls' cost
            over; None leaves calls out.

    Returns:
        ``{path: PathCost}`` for ``materialized``, ``fused`` and ``factorized``.
    """
    r, m = rank, groups * rank
    w = d_in * d_out
    macs = {
        "materialized": 3 * d_in * m * d_out + 3 * d_in * r * m,
        "fused": 4 * d_in * m * d_out + 4 * d_in * r * m,
        "factorized": 3 * n * m * (d_in + d_out) + 4 * r * m * d_out,
    }
    elements = {
        # K matrices written, stacked with the shared one, summed; their gradient read back;
        # the broadcast copies of L and R and the products L Z
        "materialized": (5 * groups + 4) * w + 2 * d_in * m + 3 * m * d_out,
        # W formed (read W_shared, write, stack) twice; P formed twice and its gradient
        "fused": 8 * w + 7 * d_in * m,
        # Q formed twice and its gradient; u, du; the private term added into y, du L into dx;
        # the per-query products of dL summed over the queries
        "factorized": 8 * m * d_out + 4 * n * m + 3 * n * (d_in + d_out) + 2 * d_in * m,
    }
    costs = {}
    for path in ("materialized", "fused", "factorized"):
        flops, nbytes = 2 * macs[path], element_bytes * elements[path]
        cost = flops + balance * nbytes
        if calls is not None:
            batch, count = calls
            cost += launch_flops * launches(path, groups, count) / (batch * count)
        costs[path] = PathCost(path, flops, nbytes, cost)
    return costs


def choose_path(
    n: int,
    d_in: int,
    d_out: int,
    groups: int,
    rank: int,
    element_bytes: int = 4,
    balance: float = DEFAULT_BALANCE,
) -> str:
    """The cheapest path for one weight spec under ``path_costs`` (ties go to ``factorized``)."""
    costs = path_costs(n, d_in, d_out, groups, rank, element_bytes, balance)
    return min(PATH_ORDER, key=lambda p: costs[p].cost)


def choose_path_on(
    device_type: str,
    n: int,
    d_in: int,
    d_out: int,
    groups: int,
    rank: int,
    batch: int,
    count: int,
    element_bytes: int = 4,
) -> str:
    """The cheapest path on a device kind (``DEVICES``) for a call of ``batch`` queries.

    A pure function of its arguments, so ``auto`` decides the same for the same device kind,
    shape, K and dtype, run after run. Unknown device kinds use the CPU figures.
    """
    model = DEVICES.get(device_type, DEVICES["cpu"])
    costs = path_costs(
        n,
        d_in,
        d_out,
        groups,
        rank,
        element_bytes,
        model.balance,
        model.launch_flops,
        calls=(batch, count),
    )
    return min(PATH_ORDER, key=lambda p: costs[p].cost)
