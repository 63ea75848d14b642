"""CLI: train and evaluate one config with the project's runner.

    python -m lors.engine.train configs/smoke/adamixer_lors_smoke.py \
        [--work-dir DIR] [--resume] [--cfg-options key=value ...]

Prints one JSON line at the end: wall and CPU seconds, iterations and the bbox metrics of the
last evaluation (``null`` where CocoMetric had no detections to score).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from mmengine.config import Config, DictAction

from lors.errors import LorsError

METRICS = ("bbox_mAP", "bbox_mAP_50", "bbox_mAP_75", "bbox_mAP_s", "bbox_mAP_m", "bbox_mAP_l")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m lors.engine.train", description=__doc__)
    parser.add_argument("config", type=Path)
    parser.add_argument("--work-dir", type=Path, help="default: work_dirs/<config name>")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Train, evaluate, print one summary line; exit 2 on bad input."""
    args = _parse(argv)
    if not args.config.is_file():
        print(f"error: config {args.config} not found", file=sys.stderr)
        return 2
    try:
        cfg = Config.fromfile(str(args.config))
        cfg.merge_from_dict(args.cfg_options)
        cfg.work_dir = str(args.work_dir or Path("work_dirs") / args.config.stem)
        cfg.resume = bool(args.resume)

        from lors.engine.runner import build_runner

        start, cpu_start = time.perf_counter(), time.process_time()
        runner = build_runner(cfg)
        runner.train()
    except LorsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    wall_s = time.perf_counter() - start
    cpu_s = time.process_time() - cpu_start
    hub = runner.message_hub
    metrics = {}
    for name in METRICS:
        key = f"val/coco/{name}"
        metrics[name] = hub.get_scalar(key).current() if key in hub.log_scalars else None
    # CPU seconds next to wall seconds: on a shared machine the wall time says little alone
    summary = {"wall_s": round(wall_s, 1), "cpu_s": round(cpu_s, 1), "iters": runner.iter}
    summary.update(metrics)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
