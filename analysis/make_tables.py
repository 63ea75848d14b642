"""Rebuild the paper's tables and figures from run records, and say where every number came from.

Usage::

    python analysis/make_tables.py SPEC... [--all] [--profile P] [--out DIR] [--figures DIR]
        [--format latex,md,csv] [--strict] [--show] [--check DIR] [--tolerance T] [--runs-dir DIR]
    python analysis/make_tables.py explain SPEC ROW COL [--profile P] [--runs-dir DIR]

Exit codes: 0 success; 1 ``--strict`` with a cell not done, or ``--check`` with a number that
moved; 2 bad input (a spec without a ``table`` block, an unknown metric, a corrupt record, a bad
flag), or ``--strict`` with a value from an older run (other code, config or data than today's:
printed with a dagger otherwise), reported as one line per problem naming the file or cell,
without a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.cell_text import FORMATS
from analysis.entries import Table
from analysis.errors import TableSpecError
from analysis.outputs import read_sidecar, write_figures, write_table
from analysis.provenance import explain, find, provenance
from analysis.regression import compare
from analysis.render import render
from analysis.sweep import SweepInputs, has_table, load_sweep
from analysis.table import build_table
from harness.gcpause import gc_paused
from harness.layout import runs_root
from lors.errors import LorsError

PROG = "make_tables"


class UsageError(Exception):
    """A bad command line (reported as one line, exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _main_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Paper tables and figures from run records.")
    p.add_argument("specs", nargs="*", type=Path, metavar="SPEC", help="sweep spec(s)")
    p.add_argument("--all", action="store_true", help="every spec under sweeps/ with a table")
    p.add_argument("--profile", help="profile to tabulate (default: the spec's default)")
    p.add_argument("--out", type=Path, default=Path("outputs/tables"), help="table folder")
    p.add_argument("--figures", type=Path, default=Path("outputs/figures"), help="figure folder")
    p.add_argument("--no-figures", action="store_true", help="write tables only")
    p.add_argument("--format", default="latex,md,csv", help="comma list of latex, md, csv")
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when any cell is not done, 2 when any value is from an older run",
    )
    p.add_argument("--show", action="store_true", help="also print each table (Markdown)")
    p.add_argument("--check", type=Path, metavar="DIR", help="compare with tables written there")
    p.add_argument("--tolerance", type=float, help="--check: largest change that does not count")
    p.add_argument("--runs-dir", type=Path, help="runs root (default: $LORS_RUNS_DIR or runs)")
    return p


def _explain_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=f"{PROG} explain", description="Where one printed number came from.")
    p.add_argument("spec", type=Path, metavar="SPEC")
    p.add_argument("row", metavar="ROW", help="row label, e.g. 2 or adaptive_groups=2")
    p.add_argument("col", metavar="COL", help="column, e.g. AP, bbox_mAP, 16/AP or 'AP (r=16)'")
    p.add_argument("--profile")
    p.add_argument("--runs-dir", type=Path)
    return p


def _formats(raw: str) -> tuple[str, ...]:
    formats = tuple(f.strip() for f in raw.split(",") if f.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise UsageError(f"--format: {raw!r} is not valid; choose from {', '.join(FORMATS)}")
    return formats


def _load(spec: Path, profile: str | None, root: Path) -> tuple[SweepInputs, Table]:
    try:
        inputs = load_sweep(spec, profile, root)
        table = build_table(inputs.layout, inputs.axis_values, inputs.cells, inputs.evaluations)
        return inputs, table
    except TableSpecError as exc:
        raise TableSpecError(f"{spec}: {exc}") from None


def _specs(args: argparse.Namespace) -> list[Path]:
    specs = list(args.specs)
    if args.all:
        for path in sorted(Path("sweeps").rglob("*.yaml")):
            if path not in specs and has_table(path):
                specs.append(path)
    if not specs:
        raise UsageError("no SPEC given; name one or more sweep specs, or pass --all")
    return specs


def run(argv: Sequence[str]) -> int:
    """The table command; returns the exit code."""
    args = _main_parser().parse_args(argv)
    formats = _formats(args.format)
    root = runs_root(args.runs_dir)
    built = [(spec, *_load(spec, args.profile, root)) for spec in _specs(args)]
    code = 0
    for spec, inputs, table in built:
        if args.check is not None:
            code = max(code, _check(args.check, table, args.tolerance, str(spec)))
        paths = write_table(table, args.out, formats, str(spec))
        if not args.no_figures:
            paths += write_figures(inputs, table, args.figures)
        numbered = [
            e for e in table.frame.to_numpy().ravel() if e.state not in ("hole", "baseline")
        ]
        done = sum(1 for e in numbered if e.done)
        smoke = "" if table.layout.is_paper else " [not paper numbers]"
        print(
            f"{table.layout.sweep} ({table.layout.profile}{smoke}): {done}/{len(numbered)} numbers "
            f"done -> {', '.join(str(p) for p in paths)}"
        )
        if args.show:
            print("\n" + render(table, "md"))
        for problem in table.problems:
            print(problem.line(table.layout.sweep), file=sys.stderr)
        for line in inputs.corrupt:
            print(f"{PROG}: error: {line}", file=sys.stderr)
        older = table.older()
        if args.strict:
            for label, why in older.items():
                print(
                    f"{PROG}: error: {spec}: {label}: from an older run ({why}); rerun it with "
                    f"python -m harness.launch {spec}, or drop --strict",
                    file=sys.stderr,
                )
        if inputs.corrupt or (args.strict and older):
            code = 2
        elif args.strict and table.problems:
            code = max(code, 1)
    return code


def _check(folder: Path, table: Table, tolerance: float | None, source: str) -> int:
    old = read_sidecar(folder, table)
    if old is None:
        print(f"{table.layout.sweep}: no earlier table in {folder} to compare with")
        return 0
    changes = compare(old, provenance(table, source), tolerance)
    for change in changes:
        print(change.line(table.layout.sweep))
    if not changes:
        print(f"{table.layout.sweep}: no number moved since {folder}")
    return 1 if changes else 0


def run_explain(argv: Sequence[str]) -> int:
    """The ``explain`` command; returns the exit code."""
    args = _explain_parser().parse_args(argv)
    _, table = _load(args.spec, args.profile, runs_root(args.runs_dir))
    data = provenance(table, str(args.spec))
    print(explain(data, find(data, args.row, args.col)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: dispatch, and turn every expected error into one line and exit code 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(message)s")
    try:
        # Records, cells and table entries by the ten thousand, few cycles: see gc_paused.
        with gc_paused():
            if argv[:1] == ["explain"]:
                return run_explain(argv[1:])
            return run(argv)
    except UsageError as exc:
        print(f"{PROG}: error: {exc} (see --help)", file=sys.stderr)
    except LorsError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
