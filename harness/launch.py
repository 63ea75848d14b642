"""CLI: turn a sweep spec into runs, submitting only what is missing.

    python -m harness.launch SPEC [--profile P] [--executor debug|local|slurm] [--dry-run]
        [--detach] [--retry] [--rerun-stale] [--limit N] [--parallel N]
        [--array-parallelism N] [--slurm-profile NAME] [--wandb offline|online|disabled]
        [--runs-dir DIR]

``--dry-run`` prints the plan (label, run id, status, decoder parameters, resources) and writes
nothing. Otherwise the new cells (plus failed ones with ``--retry``, stale ones with
``--rerun-stale``) are submitted, and the launcher shows their progress until they end, or
returns at once with ``--detach``; runs an earlier launch submitted that still run or wait in
the queue are followed with them (a relaunch after a launcher died, or after ``--detach``, shows
their progress and exit code). Bad input: one line on stderr, exit code 2. Runs that fail:
exit code 1.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from harness.cli import OneLineParser, add_common, run_cli, setup_logging
from harness.errors import ExecutorError, HarnessError
from harness.executors import EXECUTORS, default_executor, make_executor
from harness.identity import REPO
from harness.layout import runs_root, submitit_dir, sweep_dir
from harness.plan import PlannedCell, render_plan
from harness.progress import wait
from harness.records.record import read_run_record
from harness.records.schema import RECORD_NAME
from harness.spec import load_spec, project_root
from harness.submit import live_plan, make_synthetic_data, missing_data, settle_cells, submit
from harness.trackers import TRACKER_MODES
from lors.errors import LorsError


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def parser() -> OneLineParser:
    """The launch CLI's arguments."""
    p = OneLineParser(prog="python -m harness.launch", description=__doc__.split("\n")[0])
    add_common(p)
    p.add_argument(
        "--executor",
        choices=sorted(EXECUTORS),
        help="default: slurm if sbatch is on PATH, else local",
    )
    p.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    p.add_argument("--detach", action="store_true", help="return right after submitting")
    p.add_argument("--retry", action="store_true", help="also submit failed cells")
    p.add_argument("--rerun-stale", action="store_true", help="also submit stale cells")
    p.add_argument("--limit", type=_positive, help="submit at most N cells")
    p.add_argument(
        "--parallel",
        type=_positive,
        help="local: concurrent runs (default: cores // the runs' cpus)",
    )
    p.add_argument(
        "--array-parallelism",
        type=_positive,
        default=64,
        help="slurm: tasks at once per array (64)",
    )
    p.add_argument(
        "--slurm-profile",
        help="slurm/profiles/<name>.yaml (default: the spec profile's, else default)",
    )
    p.add_argument("--wandb", choices=TRACKER_MODES, default="offline", help="W&B mode (offline)")
    p.add_argument("--poll", type=float, default=5.0, help="seconds between progress updates")
    return p


def nothing_left(counts: dict[str, int], retry: bool, rerun_stale: bool) -> str:
    """``nothing left to submit (2 done, 1 failed); --retry submits failed cells``."""
    shown = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    hints = []
    if counts["failed"] and not retry:
        hints.append("--retry submits failed cells")
    if counts["stale"] and not rerun_stale:
        hints.append("--rerun-stale submits stale cells")
    return f"nothing left to submit ({shown})" + "".join(f"; {h}" for h in hints)


LIVE = ("running", "queued")  # plan statuses of runs whose job may still run them
SMOKE_DATA_HINT = " (make the smoke data: python -m lors.data.synthetic data/smoke --seed 0)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the launch CLI; returns the exit code."""
    args = parser().parse_args(argv)
    setup_logging(args.verbose)
    spec = load_spec(args.spec)
    profile = spec.profile(args.profile)
    if spec.search is not None:
        raise HarnessError(
            f"{spec.path}: a search spec: its cells come from a study; run "
            f"python -m harness.search {args.spec}"
        )
    if spec.table is not None and spec.table.kind == "counts":
        raise HarnessError(
            f"{spec.path}: table.kind is 'counts': its cells come from lors.counting; "
            "there is nothing to run"
        )
    root = runs_root(args.runs_dir)
    statuses = (
        "new",
        *(("failed",) if args.retry else ()),
        *(("stale",) if args.rerun_stale else ()),
    )
    plan = live_plan(spec, profile.name, root)
    todo = plan.select(statuses)[: args.limit]
    try:
        made = make_synthetic_data(todo, Path.cwd(), write=not args.dry_run)
    except LorsError as exc:
        raise HarnessError(
            f"{spec.path}: profile {profile.name}: {exc}; nothing was submitted"
        ) from None
    if args.dry_run:
        print(render_plan(plan))
        print(f"dry run: would submit {len(todo)} cells; nothing was written")
        for line in made:
            print(f"note: a launch would first {line} (run ids then count its files)")
        problems = [] if made else missing_data(todo)
        if problems:
            print(f"note: a launch would stop here: {'; '.join(problems)}")
        return 0
    for line in made:
        print(line)
    if made:  # the data are part of every run id: plan again with them in place
        plan = live_plan(spec, profile.name, root)
        todo = plan.select(statuses)[: args.limit]
    problems = missing_data(todo)
    if problems:
        raise HarnessError(
            f"{spec.path}: profile {profile.name}: {'; '.join(problems)}; nothing was submitted"
            f"{SMOKE_DATA_HINT if profile.name == 'smoke' else ''}"
        )
    name = args.executor or default_executor()
    executor = make_executor(
        name,
        submitit_dir(sweep_dir(root, spec.name, profile.name)),
        parallel=args.parallel,
        array_parallelism=args.array_parallelism,
        slurm_profile=args.slurm_profile or profile.slurm,
        # the spec's project first, then the harness's own checkout
        profiles_dir=[project_root(spec.path) / "slurm" / "profiles", REPO / "slurm" / "profiles"],
    )
    try:
        if todo:
            executor.preflight()  # a cluster that is down: one line before any folder is made
        done = submit(spec, profile.name, root, executor, statuses, args.limit, args.wandb)
    except ExecutorError as exc:  # the spec is fine by now: say which sweep met the cluster
        raise ExecutorError(f"{spec.path}: profile {profile.name}: {exc}") from None
    # runs an earlier launch submitted that still run or wait: followed as if submitted now
    submitted = {c.run_id for c in done.cells}
    live = [c for c in done.plan.select(LIVE) if c.run_id not in submitted]
    if not done.cells:
        print(nothing_left(done.plan.counts(), args.retry, args.rerun_stale))
        if args.detach or not live:
            return 0
    else:
        jobs = f"{len(done.jobs)} {name} jobs (token {done.token})"
        print(f"submitted {len(done.cells)} cells as {jobs}")
        if args.detach:
            hint = f"python -m harness.status {args.spec} --profile {profile.name}"
            print(f"detached; progress: {hint}")
            return 0
    if live:
        print(f"following {len(live)} runs submitted earlier (--detach returns at once)")
    followed = [*done.cells, *live]

    def on_poll() -> None:  # reap local lanes; close runs whose job ended without a word
        executor.wait()
        settle_cells(followed)

    states = wait(
        followed,
        done.plan.sweep_dir,
        f"{spec.name}/{profile.name}",
        poll_s=args.poll,
        on_poll=on_poll,
    )
    failed = [c for c in followed if states[c.run_id] == "failed"]
    for c in failed:
        print(f"{outcome(c)}: {c.cell.label} ({c.run_dir})", file=sys.stderr)
    ok = len(followed) - len(failed)
    print(f"{ok}/{len(followed)} runs done; records under {done.plan.sweep_dir}")
    if spec.table is not None:
        show_table(args.spec, profile.name, args.runs_dir)
    return 1 if failed else 0


def outcome(cell: PlannedCell) -> str:
    """How a followed run ended, in its record's words (``failed``, ``cancelled``, ``killed``)."""
    try:
        record = read_run_record(cell.run_dir / RECORD_NAME)
    except HarnessError:
        record = None
    return record.outcome if record is not None else "failed"


def show_table(spec_path: str, profile: str, runs_dir: str | None) -> None:
    """Build the sweep's table with ``analysis/make_tables.py`` (its own process: the analysis
    reads records only) and print it, after the command that rebuilds it."""
    script = REPO / "analysis" / "make_tables.py"
    shown = script.relative_to(Path.cwd()) if script.is_relative_to(Path.cwd()) else script
    cmd = [str(shown), spec_path, "--profile", profile]
    cmd += ["--runs-dir", runs_dir] if runs_dir else []
    print(f"table: python {shlex.join(cmd)}")
    sys.stdout.flush()
    code = subprocess.run([sys.executable, *cmd, "--show"], check=False).returncode
    if code:
        print(f"make_tables exited {code}; the records are kept", file=sys.stderr)


if __name__ == "__main__":
    run_cli(main)
