"""LORS_A: identity at init, the generator layouts, and every path against one reference."""

from __future__ import annotations

import math

import pytest
import torch

from lors.errors import ConfigError, ShapeError
from lors.layers import LORS_PARTS, AdaptiveLORS, WeightSpec, is_lors_parameter

KERNELS = ("materialized", "fused", "factorized")
SPECS = [WeightSpec("M", 2, 6, 5), WeightSpec("S", 2, 4, 7)]


def _randomize(layer: AdaptiveLORS, seed: int = 0) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype))


def reference_weight(layer: AdaptiveLORS, query: torch.Tensor, i: int, name: str) -> torch.Tensor:
    """``W_i(q)`` from method.md section 2, written out with einsum: (B, c, d_in, d_out)."""
    a = layer.args
    index = [w.name for w in a.weights].index(name)
    spec = a.weights[index]
    b, c, k, r = query.shape[0], a.count, a.groups[i], a.rank
    weight = query.new_zeros(b, c, spec.d_in, spec.d_out)
    if layer.lors_shared_generator is not None:
        blocks = layer.lors_shared_generator(query).view(b, c, -1)  # group-major
        start = sum(w.numel for w in a.weights[:index])
        weight = weight + blocks[:, :, start : start + spec.numel].reshape(weight.shape)
    if a.parts != "shared":
        cores = layer.core_generator(i)(query).view(b, c, len(a.weights), k, r, r)
        lefts, rights = layer.outer_factors(i)
        left, right = lefts[name], rights[name]
        weight = weight + torch.einsum("gikj,bgkjl,gklo->bgio", left, cores[:, :, index], right)
    return weight


def _inputs(
    layer: AdaptiveLORS, b: int, dtype: torch.dtype, device: torch.device | str = "cpu"
) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    xs = {}
    for w in layer.args.weights:
        n = 3 + w.d_in  # rows differ from d_in and d_out
        # x of S arrives transposed in AdaMixer: a strided view, as here for every second spec
        x = torch.randn(b, w.count, w.d_in, n, generator=gen, dtype=dtype)
        x = x.to(device).transpose(-1, -2)
        xs[w.name] = x.requires_grad_()
    return xs


@pytest.mark.parametrize("parts", ["both", "shared"])
def test_every_layer_starts_as_the_shared_generator(parts: str) -> None:
    torch.manual_seed(0)
    layer = AdaptiveLORS(8, SPECS, 3, 2, [1, 2, 3], parts=parts)
    query = torch.randn(5, 8)
    for name in ("M", "S"):
        weights = [layer(query, i).materialize(name) for i in range(3)]
        shared = layer(query, 0).shared(name)
        assert shared is not None
        for i, w in enumerate(weights):
            torch.testing.assert_close(w, shared, rtol=0, atol=0, msg=f"layer {i}")
        # generator weight zeros: the shared weight is its bias, the same for every query
        torch.testing.assert_close(shared[0], shared[-1], rtol=0, atol=0)
        assert torch.count_nonzero(shared) > 0


def test_private_only_layers_start_nonzero_and_their_own() -> None:
    """No shared term: each layer starts as its private term with the core generator's default
    bias (its weight zeros: the same for every query), one weight per layer, never 0."""
    torch.manual_seed(0)
    layer = AdaptiveLORS(8, SPECS, 3, 2, [1, 2, 3], parts="private")
    query = torch.randn(5, 8)
    for name in ("M", "S"):
        weights = [layer(query, i).materialize(name) for i in range(3)]
        for w in weights:
            assert torch.count_nonzero(w) == w.numel()
            torch.testing.assert_close(w[0], w[-1], rtol=0, atol=0)
        assert not torch.equal(weights[0], weights[1])


@pytest.mark.parametrize("parts", LORS_PARTS)
def test_two_generated_weights_in_a_chain_train_from_step_0(parts: str) -> None:
    """AdaMixer applies M, then S to M's output. Were both 0 at init (private cores of zero),
    each one's gradient would be a product with the other: exactly 0, a saddle the mixing never
    leaves. Every generator that exists gets a gradient at step 0."""
    torch.manual_seed(0)
    specs = [WeightSpec("M", 2, 6, 6), WeightSpec("S", 2, 5, 5)]
    layer = AdaptiveLORS(8, specs, 2, 2, 1, parts=parts)
    query, x = torch.randn(3, 8), torch.randn(3, 2, 5, 6)
    gen = layer(query, 1)
    mixed = torch.relu(x @ gen.materialize("M"))  # (B, c, 5, 6)
    out = gen.materialize("S") @ mixed  # S mixes the other axis, as AdaMixer's spatial mixing
    out.pow(2).sum().backward()
    generators = [layer.core_generator(1)] if parts != "shared" else []
    if layer.lors_shared_generator is not None:
        generators.append(layer.lors_shared_generator)
    for g in generators:
        assert g.weight.grad is not None and torch.count_nonzero(g.weight.grad) > 0


def test_init_of_the_outer_factors_and_generators() -> None:
    torch.manual_seed(0)
    layer = AdaptiveLORS(8, [WeightSpec("M", 2, 64, 32)], 2, 4, 2)
    assert layer.lors_shared_generator is not None
    assert torch.count_nonzero(layer.lors_shared_generator.weight) == 0
    bound = 1 / math.sqrt(8)  # nn.Linear's default bias
    assert 0.9 * bound < layer.lors_shared_generator.bias.abs().max() <= bound
    for i in range(2):
        gen = layer.core_generator(i)
        assert torch.count_nonzero(gen.weight) + torch.count_nonzero(gen.bias) == 0
    left, right = layer.outer_factors(0)[0]["M"], layer.outer_factors(0)[1]["M"]
    for t, fan_in in ((left, 64 * 4), (right, 4 * 32)):
        assert 0.9 * math.sqrt(6 / fan_in) < t.abs().max() <= math.sqrt(6 / fan_in)


def test_generator_layouts() -> None:
    """Shared: group-major, specs in order, row-major (d_in, d_out). Cores: group, spec, k."""
    layer = AdaptiveLORS(3, SPECS, 2, 2, [1, 3])
    with torch.no_grad():
        assert layer.lors_shared_generator is not None
        layer.lors_shared_generator.bias.copy_(torch.arange(2 * (30 + 28), dtype=torch.float))
        layer.core_generator(1).bias.copy_(torch.arange(2 * 2 * 3 * 4, dtype=torch.float))
    gen = layer(torch.zeros(1, 3), 1)
    m, s = gen.shared("M"), gen.shared("S")
    assert m is not None and s is not None
    assert m[0, 0, 0].tolist() == [0, 1, 2, 3, 4] and m[0, 0, 1, 0] == 5
    assert s[0, 0, 0, 0] == 30 and m[0, 1, 0, 0] == 58 and s[0, 1, 3, 6] == 115
    zm, zs = gen.cores("M"), gen.cores("S")
    assert zm is not None and zs is not None and zm.shape == (1, 2, 3, 2, 2)
    assert zm[0, 0, 0].flatten().tolist() == [0, 1, 2, 3] and zm[0, 0, 1, 0, 0] == 4
    assert zs[0, 0, 0, 0, 0] == 12 and zm[0, 1, 0, 0, 0] == 24 and zs[0, 1, 2, 1, 1] == 47


PATH_CASES = [
    # d_q, specs, N, r, K, parts
    (8, SPECS, 3, 2, [1, 3, 2], "both"),
    (8, SPECS, 3, 2, [2, 1, 3], "private"),
    (8, SPECS, 2, 1, 2, "shared"),
    (5, [WeightSpec("W", 1, 3, 9)], 2, 3, [3, 1], "both"),
    (
        6,
        [WeightSpec("A", 4, 5, 5), WeightSpec("B", 4, 2, 3), WeightSpec("C", 4, 7, 2)],
        1,
        2,
        2,
        "both",
    ),
]


@pytest.mark.parametrize(("d_q", "specs", "n", "r", "k", "parts"), PATH_CASES)
def test_paths_agree_with_the_reference_values_and_gradients(
    d_q: int, specs: list[WeightSpec], n: int, r: int, k: int | list[int], parts: str
) -> None:
    layer = AdaptiveLORS(d_q, specs, n, r, k, parts).double()
    _randomize(layer)
    query = torch.randn(4, d_q, dtype=torch.double, generator=torch.Generator().manual_seed(2))
    query.requires_grad_()
    for i in range(n):
        results = {}
        for path in ("reference", *KERNELS, "auto"):
            layer.zero_grad()
            query.grad = None
            xs = _inputs(layer, 4, torch.double)
            loss = query.new_zeros(())
            for w in specs:
                if path == "reference":
                    y = xs[w.name] @ reference_weight(layer, query, i, w.name)
                else:
                    layer.path = path
                    y = layer(query, i).apply(w.name, xs[w.name])
                probe = torch.sin(torch.arange(y.numel(), dtype=y.dtype)).view_as(y)
                loss = loss + (y * probe).sum()
            loss.backward()
            grads = [query.grad, *(x.grad for x in xs.values())]
            grads += [p.grad for p in layer.parameters() if p.grad is not None]
            results[path] = [loss.detach(), *grads]
        for path in (*KERNELS, "auto"):
            assert len(results[path]) == len(results["reference"]), path
            for got, want in zip(results[path], results["reference"], strict=True):
                torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10, msg=path)


def _losses_fp32(layer: AdaptiveLORS, query: torch.Tensor) -> dict[str, list[torch.Tensor]]:
    out = {}
    for path in KERNELS:
        layer.path = path
        layer.zero_grad()
        xs = _inputs(layer, query.shape[0], torch.float, query.device)
        gen = layer(query, 0)
        ys = [gen.apply(name, x) for name, x in xs.items()]
        torch.stack([y.float().square().mean() for y in ys]).sum().backward()
        out[path] = [*ys, *(p.grad for p in layer.parameters() if p.grad is not None)]
    return out


def test_paths_agree_in_fp32_at_adamixer_like_shapes() -> None:
    specs = [WeightSpec("M", 2, 32, 32), WeightSpec("S", 2, 16, 32)]
    layer = AdaptiveLORS(64, specs, 1, 8, 3)
    _randomize(layer)
    out = _losses_fp32(layer, torch.randn(6, 64, generator=torch.Generator().manual_seed(3)))
    for path in ("fused", "factorized"):
        for got, want in zip(out[path], out["materialized"], strict=True):
            assert got.dtype == want.dtype == torch.float
            scale = want.abs().max().item()  # fp32 rounding grows with the magnitude
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize(
    ("device", "dtype"),
    [
        ("cpu", torch.bfloat16),
        pytest.param("cuda", torch.float16, marks=pytest.mark.gpu),
        pytest.param("cuda", torch.bfloat16, marks=pytest.mark.gpu),
    ],
)
def test_paths_agree_under_autocast(device: str, dtype: torch.dtype) -> None:
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA")
    specs = [WeightSpec("M", 2, 32, 32), WeightSpec("S", 2, 16, 32)]
    layer = AdaptiveLORS(64, specs, 1, 8, 2).to(device)
    with torch.no_grad():
        for p in layer.parameters():
            p.normal_(0.0, 0.1)
    query = torch.randn(6, 64, device=device)
    with torch.autocast(device, dtype=dtype):
        out = _losses_fp32(layer, query)
    for path in KERNELS:
        assert out[path][0].dtype == dtype, path  # products run in autocast's dtype
        assert all(g.dtype == torch.float for g in out[path][2:])  # parameter grads stay fp32
    for path in ("fused", "factorized"):
        for got, want in zip(out[path], out["materialized"], strict=True):
            scale = want.float().abs().max().item()
            torch.testing.assert_close(got.float(), want.float(), rtol=0.05, atol=0.05 * scale)


def test_factorized_never_forms_a_per_query_weight() -> None:
    """The detector sees the materialized path form (B, c, d_in, d_out); factorized never does."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Allocations(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.shapes: list[tuple[int, ...]] = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in out if isinstance(out, tuple | list) else [out]:
                if isinstance(t, torch.Tensor) and not t._is_view():
                    self.shapes.append(tuple(t.shape))
            return out

    spec = WeightSpec("W", 2, 11, 13)
    layer = AdaptiveLORS(8, [spec], 1, 2, 3, parts="private")
    _randomize(layer)
    query = torch.randn(5, 8)
    x = torch.randn(5, 2, 7, 11)
    formed = {}
    for path in ("materialized", "factorized"):
        layer.path = path
        with Allocations() as mode:
            layer(query, 0).apply("W", x)
        formed[path] = [s for s in mode.shapes if s[-2:] == (11, 13)]
    assert formed["materialized"]
    assert formed["factorized"] == []


def test_state_dict_round_trip_and_names() -> None:
    layer = AdaptiveLORS(8, SPECS, 3, 2, [1, 2, 3])
    _randomize(layer)
    names = [n for n, _ in layer.named_parameters()]
    assert all(n.split(".")[0].startswith("lors_") and is_lors_parameter(n) for n in names)
    other = AdaptiveLORS(8, SPECS, 3, 2, [1, 2, 3])
    other.load_state_dict(layer.state_dict())
    query = torch.randn(4, 8)
    for i in range(3):
        for name in ("M", "S"):
            torch.testing.assert_close(
                other(query, i).materialize(name), layer(query, i).materialize(name), rtol=0, atol=0
            )
    with pytest.raises(RuntimeError):
        AdaptiveLORS(8, SPECS, 3, 2, [1, 2, 2]).load_state_dict(layer.state_dict())


def test_bad_shapes_and_names() -> None:
    layer = AdaptiveLORS(8, SPECS, 2, 2)
    with pytest.raises(ShapeError, match=r"query has shape \(4, 7\).*query_dim=8"):
        layer(torch.randn(4, 7), 0)
    with pytest.raises(ConfigError, match=r"layer=2 is invalid: expected an int in 0\.\.1"):
        layer(torch.randn(4, 8), 2)
    gen = layer(torch.randn(4, 8), 0)
    with pytest.raises(ShapeError, match=r"\(4, 2, 3, 5\).*d_in=6"):
        gen.apply("M", torch.randn(4, 2, 3, 5))
    with pytest.raises(ConfigError, match="name='Q' is unknown: expected one of M, S"):
        gen.apply("Q", torch.randn(4, 2, 3, 6))
