"""CLI: convert a released AdaMixer or AdaMixer+LORS checkpoint to this project's layout.

    python -m lors.convert IN.pth OUT.pth [--from adamixer-release|lors-release]
        [--config CFG] [--cfg-options key=value ...]

Without ``--from`` the release is recognised from the file; without ``--config`` it converts for
the R50 1x config of that release. Every tensor must be there with the release's shape and no
other: otherwise one line on stderr, exit 2, and nothing written. Prints how many tensors it
mapped and permuted, and the parameter total, which is ``python -m lors.count CFG``'s.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from lors.convert.errors import ConvertError
from lors.convert.mapping import Plan, from_release, make_plan, problems
from lors.convert.model import DEFAULT_CONFIGS, build_meta_model, decoder_dims, load_config
from lors.convert.names import MARKERS, RELEASES
from lors.convert.reading import detect, load_state_dict, save_atomically
from lors.errors import LorsError

REPO = Path(__file__).resolve().parents[2]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(prog="python -m lors.convert", description=__doc__)
    parser.add_argument("src", type=Path, metavar="IN.pth")
    parser.add_argument("dst", type=Path, metavar="OUT.pth")
    parser.add_argument("--from", dest="release", choices=RELEASES, help="default: recognised")
    parser.add_argument("--config", type=Path, help="default: the release's R50 1x config")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    return parser.parse_args(argv)


def _default_config(release: str) -> Path:
    path = Path(DEFAULT_CONFIGS[release])
    return path if path.is_file() else REPO / path


def convert(args: argparse.Namespace) -> dict[str, Any]:
    """Convert ``args.src`` to ``args.dst``; returns the summary's numbers.

    Raises:
        ConvertError: anything that keeps the file from converting; nothing is written then.
    """
    state = load_state_dict(args.src)
    found = detect(args.src, state)
    if args.release and args.release != found:
        raise ConvertError(
            f"{args.src}: --from {args.release}, but it holds a {found} checkpoint "
            f"(key {MARKERS[found]!r}): drop --from or pass the other checkpoint"
        )
    config = args.config or _default_config(found)
    cfg = load_config(config, args.cfg_options)
    model = build_meta_model(cfg)
    dims = decoder_dims(model, found, config)
    plan = make_plan(found, {k: tuple(v.shape) for k, v in model.state_dict().items()}, dims)
    issues = problems(plan, state)
    if issues:
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        raise ConvertError(
            f"{args.src}: {issues[0]}{more}; is it a {found} checkpoint of the model of {config}?"
        )
    ours = from_release(plan, state)
    total = _parameter_total(plan, ours, model)
    meta = {"converted_from": found, "source": args.src.name, "config": str(config)}
    save_atomically(args.dst, {"meta": meta, "state_dict": ours})
    permuted = sum(e.kind != "same" for e in plan.entries)
    return {"release": found, "config": str(config), "tensors": len(ours),
            "permuted": permuted, "parameters": total}  # fmt: skip


def _parameter_total(plan: Plan, ours: dict[str, Any], model: Any) -> int:
    """Elements of the converted tensors that are parameters (not BN statistics), checked to be
    the model's own parameter count, the number ``python -m lors.count`` prints."""
    from lors.model_parts import count_model_params

    names = {name for name, _ in model.named_parameters()}
    total = sum(ours[e.ours].numel() for e in plan.entries if e.ours in names)
    expected = count_model_params(model)["total"]
    if total != expected:
        raise ConvertError(f"converted {total:,} parameters, the model has {expected:,}: a bug")
    return total


def main(argv: list[str] | None = None) -> int:
    """Convert, print the summary; exit 2 (one line, nothing written) on a bad input."""
    args = _parse(argv)
    try:
        s = convert(args)
    except LorsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"converted {args.src} ({s['release']}) -> {args.dst} for {s['config']}")
    print(f"  tensors mapped     {s['tensors']:>12,}")
    print(
        f"  of them permuted   {s['permuted']:>12,}  (layout differs: see docs/release-layouts.md)"
    )
    print(f"  parameters total   {s['parameters']:>12,}  (= python -m lors.count {s['config']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
