"""CLI: the live plan of a sweep: status, last metric and job of every cell; log tails of failures.

    python -m harness.status SPEC [--profile P] [--runs-dir DIR] [--tail N]

Reads records, the journal and the queue (``squeue``, the process table); writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.cli import OneLineParser, add_common, run_cli, setup_logging
from harness.layout import runs_root
from harness.plan import PlannedCell, render_plan
from harness.plan.render import Column, plan_columns
from harness.records.schema import METRIC_KEYS
from harness.spec import load_spec
from harness.submit import live_plan


def last_metric(record: Mapping[str, Any] | None) -> str:
    """``bbox_mAP=0.123 @iter 800`` from the last evaluation of a record (else the first numeric
    result of that evaluation, else ``-``)."""
    history = (record or {}).get("history") or []
    if not history:
        return "-"
    last = history[-1]
    keys = [k for k in METRIC_KEYS if last.get(k) is not None]
    keys += [
        k
        for k, v in last.items()
        if k not in ("epoch", "iter", *METRIC_KEYS) and isinstance(v, int | float)
    ]
    if not keys:
        return f"no detections @iter {last.get('iter')}"
    return f"{keys[0]}={last[keys[0]]:.4f} @iter {last.get('iter')}"


def status_columns() -> list[Column]:
    """The plan columns plus the last metric and the job."""

    def job(pc: PlannedCell) -> str:
        return pc.job or "-"

    return [*plan_columns()[:4], ("last metric", lambda pc: last_metric(pc.record)), ("job", job)]


def failure_tails(cells: Sequence[PlannedCell], lines: int) -> str:
    """For every failed cell: its label, run folder and the last lines of its error tail."""
    out = []
    for pc in cells:
        if pc.status != "failed":
            continue
        tail = ((pc.record or {}).get("error_tail") or pc.note or "no error recorded").splitlines()
        out.append(f"--- failed: {pc.cell.label} ({pc.run_dir})")
        out += [f"    {line}" for line in tail[-lines:]]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the status CLI; returns the exit code."""
    p = OneLineParser(prog="python -m harness.status", description=__doc__.split("\n")[0])
    add_common(p)
    p.add_argument("--tail", type=int, default=12, help="error-tail lines per failed cell (12)")
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    spec = load_spec(args.spec)
    plan = live_plan(spec, spec.profile(args.profile).name, runs_root(args.runs_dir))
    print(render_plan(plan, status_columns()))
    tails = failure_tails(plan.cells, args.tail)
    if tails:
        print(tails)
    return 0


if __name__ == "__main__":
    run_cli(main)
