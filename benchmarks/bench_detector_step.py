"""Benchmark one whole-detector training iteration: AdaMixer against AdaMixer+LORS.

One iteration = forward with the losses of every stage, backward, gradient-norm clipping at 1 and
an AdamW step (the paper's recipe, method.md section 5), on a batch of 2 images with 10 random
ground-truth boxes each. The detectors are the project's R50 1x configs (6 stages, 100 queries):

- ``plain``: configs/adamixer/adamixer_r50_1x_coco.py (AdaMixer's own G = 4, P_in = 32),
- ``plain-G2``: the same at the LORS release's G = 2, P_in = 64, to tell LORS's cost from the
  shape's,
- ``lors``: configs/adamixer_lors/adamixer_lors_r50_1x_coco.py (its mixing on ``auto``).

Each detector lives in its own worker process, so that its peak memory is its own (peak resident
set on CPU, ``torch.cuda.max_memory_allocated`` on CUDA); the parent asks the workers for one
iteration in turn, their order rotated each round, and drops a warm-up round. It prints per
detector min/median/max wall time and median CPU time per iteration and the peak memory, with
ratios to ``plain`` and to ``plain-G2``. CPU runs at a reduced image size (``--size``, printed);
the decoder's cost does not depend on it, so the decoder's share, and LORS's ratio, is larger
there than at 800 x 1333.

Usage: ``python benchmarks/bench_detector_step.py [--device cuda] [--repeats 5] [--size 384 640]``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))  # run as a script or by path
from devices import device_problem  # noqa: E402

CONFIGS = {
    "plain": ("configs/adamixer/adamixer_r50_1x_coco.py", {}),
    "plain-G2": (
        "configs/adamixer/adamixer_r50_1x_coco.py",
        {"model.roi_head.num_groups": 2, "model.roi_head.in_points": 64},
    ),
    "lors": ("configs/adamixer_lors/adamixer_lors_r50_1x_coco.py", {}),
}
IMAGES, BOXES = 2, 10


def _build(name: str, device: str):  # type: ignore[no-untyped-def]
    import torch
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    sys.path.insert(0, str(REPO))  # the configs import lors.models
    init_default_scope("mmdet")
    path, options = CONFIGS[name]
    cfg = Config.fromfile(str(REPO / path))
    cfg.merge_from_dict(options)
    cfg.model.backbone.init_cfg = None  # no pretrained weights: timing does not need them
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model.to(device).train()


def _batch(device: str, size: tuple[int, int]):  # type: ignore[no-untyped-def]
    import torch
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData

    gen = torch.Generator().manual_seed(0)
    h, w = size
    inputs = torch.randn(IMAGES, 3, h, w, generator=gen).to(device)
    samples = []
    for _ in range(IMAGES):
        xy = torch.rand(BOXES, 2, generator=gen) * torch.tensor([w * 0.7, h * 0.7])
        wh = torch.rand(BOXES, 2, generator=gen) * torch.tensor([w * 0.3, h * 0.3]) + 8
        sample = DetDataSample(
            metainfo=dict(img_shape=(h, w), pad_shape=(h, w), batch_input_shape=(h, w))
        )
        sample.gt_instances = InstanceData(
            bboxes=torch.cat([xy, xy + wh], dim=1).to(device),
            labels=torch.randint(0, 80, (BOXES,), generator=gen).to(device),
        )
        samples.append(sample)
    return inputs, samples


def _worker(name: str, device: str, size: tuple[int, int], threads: int, conn: Connection) -> None:
    import torch

    # mmengine logs every parameter's init to stdout; a worker's results go through the pipe
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the worker's whole life)
    if threads > 0:
        torch.set_num_threads(threads)
    model = _build(name, device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=2.5e-5, weight_decay=1e-4)
    inputs, samples = _batch(device, size)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    conn.send("ready")
    while conn.recv() == "step":
        _sync(device)
        start, start_cpu = time.perf_counter(), time.process_time()
        losses = model.loss(inputs, samples)
        loss = sum(v for v in losses.values() if isinstance(v, torch.Tensor))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, max_norm=1.0)
        optimizer.step()
        _sync(device)
        conn.send(((time.perf_counter() - start) * 1e3, (time.process_time() - start_cpu) * 1e3))
    if device == "cuda":
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    conn.send(peak)


def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def run(
    device: str, size: tuple[int, int], repeats: int, threads: int, names: tuple[str, ...]
) -> dict[str, dict[str, float]]:
    """Per detector: wall min/median/max, median CPU ms per iteration, peak memory bytes."""
    ctx = mp.get_context("spawn")  # a fresh interpreter each: no state shared with the parent
    conns, procs = {}, []
    for name in names:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(name, device, size, threads, child))
        proc.start()
        conns[name] = parent
        procs.append(proc)
    for conn in conns.values():
        conn.recv()  # built
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for rep in range(repeats + 1):  # round 0 warms up and is dropped
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            conns[name].send("step")
            w, c = conns[name].recv()
            if rep:
                wall[name].append(w)
                cpu[name].append(c)
    out = {}
    for name in names:
        conns[name].send("stop")
        t = wall[name]
        out[name] = {
            "min_ms": min(t),
            "median_ms": statistics.median(t),
            "max_ms": max(t),
            "cpu_ms": statistics.median(cpu[name]),
            "peak_bytes": float(conns[name].recv()),
        }
    for proc in procs:
        proc.join()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (after 1 warm-up)")
    parser.add_argument(
        "--size",
        type=int,
        nargs=2,
        default=None,
        metavar=("H", "W"),
        help="image size (default: 384 640 on CPU, 800 1333 on CUDA)",
    )
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    args = parser.parse_args(argv)
    import torch

    problem = device_problem(args.device)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    size = tuple(args.size or ((384, 640) if args.device == "cpu" else (800, 1333)))
    if args.repeats < 1 or min(size) < 32:
        print(f"--repeats {args.repeats} must be >= 1 and --size {size} >= 32", file=sys.stderr)
        return 2
    names = tuple(CONFIGS)
    r = run(args.device, (size[0], size[1]), args.repeats, args.threads, names)
    memory = "peak RSS" if args.device == "cpu" else "peak CUDA allocated"
    print(
        f"device={args.device} images={IMAGES} size={size[0]}x{size[1]} queries=100 stages=6 "
        f"repeats={args.repeats} torch={torch.__version__} memory={memory}"
    )
    print(
        f"{'detector':<10}{'min ms':>9}{'median':>9}{'max ms':>9}{'cpu ms':>9}"
        f"{'t/plain':>9}{'t/G2':>7}{'peak MiB':>10}{'mem/plain':>10}{'mem/G2':>8}"
    )
    a, g2 = r["plain"], r["plain-G2"]
    for name, m in r.items():
        print(
            f"{name:<10}{m['min_ms']:>9.0f}{m['median_ms']:>9.0f}{m['max_ms']:>9.0f}"
            f"{m['cpu_ms']:>9.0f}{m['median_ms'] / a['median_ms']:>9.2f}"
            f"{m['median_ms'] / g2['median_ms']:>7.2f}{m['peak_bytes'] / 2**20:>10.0f}"
            f"{m['peak_bytes'] / a['peak_bytes']:>10.2f}{m['peak_bytes'] / g2['peak_bytes']:>8.2f}"
        )
    lors = r["lors"]
    time_ok = lors["median_ms"] <= 1.1 * a["median_ms"]
    mem_ok = lors["peak_bytes"] <= a["peak_bytes"]
    print(
        f"target: lors/plain time {lors['median_ms'] / a['median_ms']:.2f} "
        f"({'met' if time_ok else 'NOT met'}: <= 1.10), peak memory "
        f"{lors['peak_bytes'] / a['peak_bytes']:.2f} ({'met' if mem_ok else 'NOT met'}: <= 1.00)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
