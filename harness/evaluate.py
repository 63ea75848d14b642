"""CLI: evaluate a checkpoint (the authors' released weights, converted) and keep a run record.

    python -m harness.evaluate CONFIG CHECKPOINT --sweep table2 --label "AdaMixer+LORS (release)"
        [--axis model] [--profile paper] [--runs-dir DIR] [--cfg-options key=value ...]

The evaluation is ``lors.engine.test``'s (strict about the checkpoint's keys, the config's test
loop). The record is an ordinary one (docs/record.md) under
``<runs root>/<sweep>/<profile>/<label>-<run id>/record.json``: cell ``{axis: label}``, no seed,
one attempt (executor ``evaluate``), the parameter counts and the bbox metrics. Its config block
is the resolved config plus ``evaluated_checkpoint`` (the file's name and SHA-256), so the run id
changes with the weights as with the config, data and code. Evaluating the same file again finds
the record done and does nothing.
"""

from __future__ import annotations

import hashlib
import os
import socket
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.cli import OneLineParser, run_cli
from harness.identity import code_version, data_manifest, identify
from harness.layout import run_folder_name, runs_root, sweep_dir
from harness.records.store import record_path
from harness.records.writer import RecordWriter

EXECUTOR = "evaluate"


def checkpoint_digest(path: Path) -> str:
    """SHA-256 of the checkpoint file (read in 8 MiB blocks)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 23), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    import sys
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for pkg in ("torch", "mmcv", "mmengine", "mmdet", "numpy", "lors-harness"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "absent"
    return out


def _parse(argv: Sequence[str] | None) -> Any:
    from mmengine.config import DictAction

    parser = OneLineParser(prog="python -m harness.evaluate", description=__doc__)
    parser.add_argument("config", type=Path)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--sweep", required=True, help="the sweep the record belongs to")
    parser.add_argument("--label", required=True, help="the row's label, e.g. 'AdaMixer (release)'")
    parser.add_argument("--axis", default="model", help="the axis the label is a value of")
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--runs-dir", default=None, help="default: $LORS_RUNS_DIR, else runs/")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    return parser.parse_args(list(argv) if argv is not None else None)


def evaluate_to_record(args: Any) -> Path:
    """Evaluate and write the record; returns the record's path.

    Raises:
        lors.errors.LorsError: a missing config, checkpoint or dataset, or a release checkpoint
            not yet converted (before any record is written); a checkpoint whose keys do not
            fit the model (the record then says ``failed``).
    """
    from mmengine.config import Config

    from lors.engine.test import (
        EvaluationError,
        check_not_release,
        evaluate,
        model_state,
        prepare_data,
        test_config,
    )

    if not args.config.is_file():
        raise EvaluationError(f"config {args.config} not found")
    if not args.checkpoint.is_file():
        raise EvaluationError(f"checkpoint {args.checkpoint} not found")
    check_not_release(args.checkpoint, model_state(args.checkpoint))
    cfg = Config.fromfile(str(args.config))
    cfg.merge_from_dict(args.cfg_options)
    identity_cfg = cfg.to_dict()
    identity_cfg["evaluated_checkpoint"] = {
        "file": args.checkpoint.name,
        "sha256": checkpoint_digest(args.checkpoint),
    }
    manifest = data_manifest(identity_cfg)
    identity = identify(identity_cfg, manifest)
    root = runs_root(args.runs_dir)
    run_dir = sweep_dir(root, args.sweep, args.profile) / run_folder_name(
        args.label, identity.run_id
    )
    writer = RecordWriter(
        record_path(run_dir),
        {
            "sweep": args.sweep,
            "profile": args.profile,
            "label": args.label,
            "cell": {"coords": {args.axis: args.label}, "seed": None},
            "run_id": identity.run_id,
            "identity": identity.as_record(),
            "overrides": dict(args.cfg_options),
            "data_manifest": manifest,
            "code": code_version().as_record(),
            "versions": _versions(),
            "run_dir": str(run_dir.relative_to(root)),
            "wandb": {"id": identity.run_id, "mode": "disabled", "dir": None, "synced": False},
        },
    )
    if writer.status == "done":
        print(f"{writer.path}: done already")
        return writer.path
    cfg = test_config(cfg, run_dir / "work")
    prepare_data(cfg)  # missing data: an error before the record exists
    run_dir.mkdir(parents=True, exist_ok=True)
    writer.start_attempt(EXECUTOR, f"pid{os.getpid()}", socket.gethostname(), os.getpid())
    writer.set_config(identity_cfg)
    try:
        result = evaluate(cfg, args.checkpoint)
    except BaseException as exc:
        tail = "".join(traceback.format_exception(exc, chain=False)).strip().splitlines()[-30:]
        writer.finish("failed", error_tail="\n".join(tail), failure="error")
        raise
    writer.set_params(result.params)
    writer.add_evaluation(None, 0, result.results, checkpoint=None)
    writer.finish("completed")
    print(f"{writer.path}: done, bbox_mAP {result.metrics()['bbox_mAP']}")
    return writer.path


def main(argv: Sequence[str] | None = None) -> int:
    """Evaluate and record; a bad input is one line and exit 2 (``run_cli``)."""
    evaluate_to_record(_parse(argv))
    return 0


if __name__ == "__main__":
    run_cli(main)
