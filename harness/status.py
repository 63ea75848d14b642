"""CLI: the live plan of a sweep: status, last metric and job of every cell; every attempt of a
run that did not go in one (requeued, preempted, cancelled, killed) with its times and cause;
log tails of failures; for every stale cell, what changed since its run (config keys, data, or
code files).

    python -m harness.status SPEC [--profile P] [--runs-dir DIR] [--tail N]

Reads records, the journal and the queue (``squeue``, ``sacct``, the process table). It writes
only what it finds out: a run whose job ended without closing it (cancelled, killed, requeued)
has its attempt closed in its record (``harness.executors.ended``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from harness.cli import OneLineParser, add_common, run_cli, setup_logging
from harness.layout import runs_root, sweep_dir
from harness.plan import Plan, PlannedCell, render_plan
from harness.plan.render import Column, plan_columns
from harness.records.diff import describe
from harness.records.match import sweep_records
from harness.records.record import RunRecord
from harness.records.schema import METRIC_KEYS
from harness.spec import load_spec
from harness.spec.model import Case, Cases, SweepSpec
from harness.spec.search_model import TRIAL_AXIS
from harness.submit import live_plan, settle_cells

# What each failure class asks of the user (harness.job.failure); the harness retries none
FAILURE_ADVICE = {
    "oom": "out of memory: ask for more resources.mem_gb (or GPUs) or a smaller batch; "
    "--retry would run it with the same resources",
    "nan": "the loss became NaN or infinite: lower the learning rate, clip gradients or check "
    "the data; --retry would repeat it",
    "error": "a Python error (the record's error_tail ends with its traceback): fix it, then "
    "--retry resumes from the last checkpoint",
    "requeues": "requeued more often than LORS_MAX_REQUEUES allows: another partition or QOS, "
    "then --retry resumes from the last checkpoint",
}


def last_metric(record: RunRecord | None) -> str:
    """``bbox_mAP=0.123 @iter 800`` from the last evaluation of a record (else the first numeric
    result of that evaluation, else ``-``)."""
    history = record.history if record is not None else ()
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


def shown_status(pc: PlannedCell) -> str:
    """The plan's status, in the record's words where those say more (``cancelled``,
    ``killed``, ``queued (requeued)``)."""
    record = pc.record
    if record is None or record.run_id != pc.run_id or record.status != pc.status:
        return pc.status
    return record.outcome


def status_columns() -> list[Column]:
    """The plan columns (the status in the record's words) plus the last metric and the job."""

    def job(pc: PlannedCell) -> str:
        return pc.job or "-"

    label, run_id, _, params = plan_columns()[:4]
    return [label, run_id, ("status", shown_status), params,
            ("last metric", lambda pc: last_metric(pc.record)), ("job", job)]  # fmt: skip


def _clock(iso: str | None) -> str:
    return iso.replace("T", " ").split("+")[0] if iso else "?"


def attempt_lines(cells: Sequence[PlannedCell]) -> str:
    """For every run that took more than one attempt or whose last one did not complete: each
    attempt's job, node, start and end, how it ended and how the harness knows."""
    out = []
    for pc in cells:
        record = pc.record
        if record is None or record.run_id != pc.run_id or not record.attempts:
            continue
        if len(record.attempts) == 1 and record.attempts[0].exit in ("completed", "pruned"):
            continue
        out.append(f"--- attempts: {pc.cell.label} (run {pc.run_id}), now {shown_status(pc)}")
        for i, a in enumerate(record.attempts, 1):
            how = a.exit or "running"
            span = f"{_clock(a.start)} -> {_clock(a.end) if a.end else 'now'}"
            resumed = f", resumed at iteration {a.resumed_from_iter}" if a.resumed_from_iter else ""
            where = f"{a.node or '?'}" + (f" ({a.processes} processes)" if a.processes > 1 else "")
            line = f"    {i}. {a.job} on {where}: {span}{resumed}: {how}"
            line += f" ({a.detail})" if a.detail else ""
            line += f"; got {', '.join(a.signals)}" if a.signals and not a.detail else ""
            out.append(line)
            if a.exit == "failed" and a.failure in FAILURE_ADVICE:
                out.append(f"       {FAILURE_ADVICE[a.failure]}")
        if record.checkpoint:
            out.append(f"    last checkpoint: {record.checkpoint}")
        if record.wandb_lost:
            out.append(f"    W&B lost: {record.wandb_lost}; the record has everything")
    return "\n".join(out)


def failure_tails(cells: Sequence[PlannedCell], lines: int) -> str:
    """For every failed cell: its label, run folder and the last lines of its error tail."""
    out = []
    for pc in cells:
        if pc.status != "failed":
            continue
        recorded = pc.record.error_tail if pc.record is not None else None
        tail = (recorded or pc.note or "no error recorded").splitlines()
        out.append(f"--- {shown_status(pc)}: {pc.cell.label} ({pc.run_dir})")
        out += [f"    {line}" for line in tail[-lines:]]
    return "\n".join(out)


def stale_reasons(plan: Plan, runs_root: Path) -> str:
    """For every stale cell: its label, the older run shown, and what changed since."""
    out = []
    for pc in plan.cells:
        if pc.status != "stale" or pc.record is None:
            continue
        why = describe(pc.record, pc.changed, pc.config, plan.code, runs_root)
        out.append(f"--- stale: {pc.cell.label} (run {pc.record.run_id}): {why}")
    return "\n".join(out)


def pruned_notes(cells: Sequence[PlannedCell]) -> str:
    """For every pruned cell: where its trial's pruner stopped it, and what a later trial does."""
    out = []
    for pc in cells:
        stop = pc.record.pruned if pc.status == "pruned" and pc.record is not None else None
        if stop:
            ckpt = pc.record.checkpoint if pc.record is not None else None
            out.append(
                f"--- pruned: {pc.cell.label} (run {pc.run_id}): pruned at step {stop.get('step')} "
                f"(iteration {stop.get('iter')}) by trial {stop.get('trial')}; a later trial of "
                f"this config that is not pruned there continues from {ckpt or 'the start'}"
            )
    return "\n".join(out)


def trial_cells(spec: SweepSpec, profile: str, root: Path) -> SweepSpec:
    """A search spec with one case per config its study ran (from the run folders' records: a
    search has no grid to plan)."""
    assert spec.search is not None
    search = spec.search.for_profile(profile)
    cases: dict[str, Case] = {}
    records, _ = sweep_records(sweep_dir(root, spec.name, profile), spec.name, profile)
    for record in records:
        label = record.coords.get(TRIAL_AXIS)
        if label is None or label in cases:
            continue
        given = record.overrides
        cases[label] = Case(label, {p.key: given[p.key] for p in search.space if p.key in given})
    return replace(spec, search=search, axes=Cases(TRIAL_AXIS, tuple(cases.values())))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the status CLI; returns the exit code."""
    p = OneLineParser(prog="python -m harness.status", description=__doc__.split("\n")[0])
    add_common(p)
    p.add_argument("--tail", type=int, default=12, help="error-tail lines per failed cell (12)")
    args = p.parse_args(argv)
    setup_logging(args.verbose)
    spec = load_spec(args.spec)
    root = runs_root(args.runs_dir)
    profile = spec.profile(args.profile).name
    if spec.search is not None:
        spec = trial_cells(spec, profile, root)
    plan = live_plan(spec, profile, root)
    if settle_cells(plan.cells):  # runs whose job ended without closing them: closed now
        plan = live_plan(spec, profile, root)
    print(render_plan(plan, status_columns()))
    blocks = (
        stale_reasons(plan, root),
        pruned_notes(plan.cells),
        attempt_lines(plan.cells),
        failure_tails(plan.cells, args.tail),
    )
    for block in blocks:
        if block:
            print(block)
    return 0


if __name__ == "__main__":
    run_cli(main)
