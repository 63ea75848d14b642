"""CLI: upload offline W&B runs and record what was uploaded.

    python -m harness.sync [SPEC] [--profile P] [--runs-dir DIR] [--dry-run]

With a spec: the runs of that sweep (one profile, or all of them); without: every run under the
runs root. Only runs that ended are uploaded; a record notes ``wandb.synced`` and the folders
sent, so a second sync sends only what is new.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.cli import OneLineParser, add_common, run_cli, setup_logging
from harness.layout import runs_root, sweep_dir
from harness.records.schema import RECORD_NAME
from harness.spec import load_spec
from harness.trackers.sync import pending_syncs, sync


def _records(root: Path, spec_path: str | None, profile: str | None) -> list[Path]:
    if spec_path is None:
        return sorted(root.glob(f"*/*/*/{RECORD_NAME}"))
    spec = load_spec(spec_path)
    profiles = [spec.profile(profile).name] if profile else list(spec.profiles)
    return sorted(
        p for name in profiles for p in sweep_dir(root, spec.name, name).glob(f"*/{RECORD_NAME}")
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sync CLI; returns the exit code (1 when an upload failed)."""
    p = OneLineParser(prog="python -m harness.sync", description=__doc__.split("\n")[0])
    add_common(p, spec_required=False)
    p.add_argument("--dry-run", action="store_true", help="list what would be uploaded")
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    items = pending_syncs(_records(runs_root(args.runs_dir), args.spec, args.profile))
    if not items:
        print("nothing to sync")
        return 0
    if args.dry_run:
        for item in items:
            print(f"would sync {item.label} ({item.run_id}): {len(item.dirs)} offline runs")
        return 0
    failed = 0
    for item, ok, message in sync(items):
        print(f"{'synced' if ok else 'FAILED'} {item.label} ({item.run_id}): {message}")
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    run_cli(main)
