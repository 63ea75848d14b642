"""CLI: evaluate a checkpoint with a config's test dataloader and evaluator (CocoMetric).

    python -m lors.engine.test CONFIG CHECKPOINT [--work-dir DIR] [--cfg-options key=value ...]

The checkpoint must hold exactly the model's tensors (checked before anything runs: a missing
or extra key is one line and exit 2, never a silent evaluation of untrained weights); a release
checkpoint is named as such, with the command that converts it (``python -m lors.convert``).
It loads under torch's ``weights_only`` unpickler. Only the test loop is built: the config's
train and val settings are dropped, so only the test data must exist (a synthetic set the config
declares is made on demand, as a launch would). mmengine prints the COCO table; the last line is
one JSON object: the config, the checkpoint, wall seconds, images and the six bbox metrics
(``null`` where COCO had none to score).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lors.errors import LorsError

METRICS = ("bbox_mAP", "bbox_mAP_50", "bbox_mAP_75", "bbox_mAP_s", "bbox_mAP_m", "bbox_mAP_l")
#: keys only a release checkpoint has (lors.convert.names.MARKERS, without importing it here)
RELEASE_PREFIXES = ("roi_head.bbox_head.", "roi_head.adaptive_mixing.", "neck.lateral_convs.")
#: what an evaluation does not build: the train and val loops and what only they need
NOT_FOR_TEST = ("train_dataloader", "train_cfg", "optim_wrapper", "param_scheduler",
                "val_dataloader", "val_cfg", "val_evaluator")  # fmt: skip


class EvaluationError(LorsError):
    """A checkpoint that does not fit the config's model, or a config that cannot evaluate."""


@dataclass(frozen=True)
class Evaluation:
    """What one evaluation gave.

    Attributes:
        results: the evaluator's results as mmengine returns them (``coco/bbox_mAP``, ...).
        params: ``lors.model_parts.count_model_params`` of the evaluated model.
        images: images in the test set.
        wall_s: seconds the test loop took.
    """

    results: Mapping[str, Any]
    params: Mapping[str, int]
    images: int
    wall_s: float

    def metrics(self) -> dict[str, float | None]:
        """The six bbox metrics (fractions); None where COCO had nothing to score (its -1)."""
        out: dict[str, float | None] = {}
        for name in METRICS:
            value = self.results.get(f"coco/{name}")
            out[name] = float(value) if isinstance(value, int | float) and value >= 0 else None
        return out


def test_config(cfg: Any, work_dir: Path) -> Any:
    """``cfg`` reduced to its test loop, with no checkpoint to load (the caller loads it)."""
    for key in NOT_FOR_TEST:
        cfg[key] = None
    if cfg.get("test_dataloader") is None or cfg.get("test_evaluator") is None:
        raise EvaluationError(
            "the config has no test_dataloader or test_evaluator to evaluate with"
        )
    cfg.work_dir = str(work_dir)
    cfg.load_from = None
    cfg.resume = False
    return cfg


def model_state(path: Path) -> dict[str, Any]:
    """The tensors of a checkpoint (``state_dict`` or the file itself), ``module.`` removed.

    Raises:
        EvaluationError: the file is missing or not a checkpoint the safe loader reads.
    """
    import pickle

    from lors.engine.checkpoint import load_checkpoint_file

    if not path.is_file():
        raise EvaluationError(f"checkpoint {path} not found")
    try:
        raw = load_checkpoint_file(str(path))
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:120]
        raise EvaluationError(f"checkpoint {path} cannot be read safely ({first})") from None
    state = raw.get("state_dict", raw) if isinstance(raw, Mapping) else None
    if not isinstance(state, Mapping):
        raise EvaluationError(f"checkpoint {path} holds no state_dict")
    return {str(k).removeprefix("module."): v for k, v in state.items()}


def check_not_release(path: Path, state: Mapping[str, Any]) -> None:
    """Raise when ``state`` is in a release's layout, naming the command that converts it."""
    if any(k.startswith(RELEASE_PREFIXES) for k in state):
        raise EvaluationError(
            f"checkpoint {path} is in a release's layout: convert it first with "
            f"python -m lors.convert {path} CONVERTED.pth"
        )


def prepare_data(cfg: Any) -> None:
    """Make a synthetic set the config declares, then check every dataset path it reads.

    Raises:
        lors.engine.DataError: a dataset path is missing (names it and its config key).
    """
    from lors.data.check import check_data
    from lors.data.ondemand import ensure, requested

    request = requested(cfg)
    if request is not None:
        ensure(request, inside=Path.cwd())
    check_data(cfg)


def check_fits(path: Path, state: Mapping[str, Any], model: Any) -> None:
    """Raise unless ``state`` has exactly ``model``'s keys with its shapes."""
    check_not_release(path, state)
    ours = model.state_dict()
    missing = [k for k in ours if k not in state]
    extra = [k for k in state if k not in ours]
    shaped = [k for k in ours if k in state and tuple(state[k].shape) != tuple(ours[k].shape)]
    for what, keys in (("lacks", missing), ("has the unknown", extra), ("has a shape off", shaped)):
        if keys:
            more = f" and {len(keys) - 1} more" if len(keys) > 1 else ""
            raise EvaluationError(
                f"checkpoint {path} {what} key {keys[0]!r}{more}: is it a checkpoint of this "
                "config's model?"
            )


def evaluate(cfg: Any, checkpoint: Path) -> Evaluation:
    """Evaluate ``checkpoint`` with the test loop of ``cfg`` (from :func:`test_config`).

    Raises:
        EvaluationError: the checkpoint does not fit the model.
        lors.engine.DataError: the test data is missing.
    """
    from lors.engine.runner import build_runner
    from lors.model_parts import count_model_params

    state = model_state(checkpoint)
    check_not_release(checkpoint, state)
    prepare_data(cfg)
    runner = build_runner(cfg)
    model = getattr(runner.model, "module", runner.model)
    check_fits(checkpoint, state, model)
    model.load_state_dict(state, strict=True)
    start = time.perf_counter()
    results = runner.test()
    wall_s = time.perf_counter() - start
    images = len(runner.test_dataloader.dataset)
    return Evaluation(dict(results), count_model_params(model), images, wall_s)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(prog="python -m lors.engine.test", description=__doc__)
    parser.add_argument("config", type=Path)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--work-dir", type=Path, help="default: work_dirs/test/<config name>")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Evaluate, print one summary line; exit 2 on bad input."""
    from mmengine.config import Config

    args = _parse(argv)
    if not args.config.is_file():
        print(f"error: config {args.config} not found", file=sys.stderr)
        return 2
    try:
        cfg = Config.fromfile(str(args.config))
        cfg.merge_from_dict(args.cfg_options)
        work_dir = args.work_dir or Path("work_dirs") / "test" / args.config.stem
        result = evaluate(test_config(cfg, work_dir), args.checkpoint)
    except LorsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    summary: dict[str, Any] = {
        "config": str(args.config),
        "checkpoint": str(args.checkpoint),
        "images": result.images,
        "wall_s": round(result.wall_s, 1),
        "params": result.params["total"],
    }
    summary.update(result.metrics())
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
