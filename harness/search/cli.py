"""CLI: an Optuna study over a search spec's knobs, each trial a harness run.

    python -m harness.search SPEC [--profile P] [--trials N] [--executor debug|local|slurm]
        [--parallel N] [--wandb offline|online|disabled] [--poll S] [--dry-run] [--detach]
        [--follow] [--runs-dir DIR]

Runs the study until N trials have ended (default: the spec's ``search.trials``), with a line per
event, then prints the Pareto front (the best trial for one objective) and the optuna-dashboard
command. Run it again and it resumes: trials in flight are adopted, ended ones kept; a config
that equals a done run costs nothing. Bad input: one line on stderr, exit code 2.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import optuna

from harness.cli import OneLineParser, add_common, run_cli, setup_logging
from harness.errors import HarnessError
from harness.executors import EXECUTORS, default_executor, make_executor
from harness.identity import REPO, profile_config
from harness.layout import runs_root, submitit_dir, sweep_dir
from harness.plan import format_table, make_plan
from harness.search.background import LOG_NAME, detach, follow, holder
from harness.search.budget import decoder_budget
from harness.search.controller import Controller
from harness.search.space import overrides
from harness.search.storage import shown
from harness.search.study import load_study
from harness.search.trials import ended_count, tally
from harness.spec import load_spec, project_root
from harness.spec.config import apply_overrides
from harness.spec.model import SweepSpec
from harness.spec.parse_search import probe_axes
from harness.spec.search_model import MAX_TRIALS, SearchSpec, edge_values
from harness.submit import make_synthetic_data, missing_data
from harness.trackers import TRACKER_MODES
from lors.errors import LorsError

MAX_EDGES = 4096


def _trials(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_TRIALS:
        raise ValueError(text)
    return value


def parser() -> OneLineParser:
    """The search CLI's arguments."""
    p = OneLineParser(prog="python -m harness.search", description=__doc__.split("\n")[0])
    add_common(p)
    p.add_argument("--trials", type=_trials, help="trials to end (default: search.trials)")
    p.add_argument(
        "--executor", choices=sorted(EXECUTORS), help="default: slurm if sbatch, else local"
    )
    p.add_argument("--parallel", type=_trials, help="local: concurrent runs")
    p.add_argument("--wandb", choices=TRACKER_MODES, default="offline", help="W&B mode (offline)")
    p.add_argument("--poll", type=float, default=5.0, help="seconds between looks at the runs")
    p.add_argument("--detach", action="store_true", help="run the controller in the background")
    p.add_argument("--follow", action="store_true", help="print a background controller's log")
    p.add_argument(
        "--dry-run", action="store_true", help="print the space and study; write nothing"
    )
    return p


def edge_budgets(spec: SweepSpec, profile: str) -> list[dict[str, float]]:
    """The analytic counts (``params.roi_head`` ...) of the space's edge configs (no training)."""
    assert spec.search is not None
    base = profile_config(spec.profile(profile))
    combos = itertools.product(*(edge_values(p) for p in spec.search.space))
    out = []
    for combo in itertools.islice(combos, MAX_EDGES):
        params = {p.name: v for p, v in zip(spec.search.space, combo, strict=True)}
        cfg = apply_overrides(base, overrides(spec.search, params))
        try:
            out.append(decoder_budget(spec.search, cfg))
        except (LorsError, KeyError, TypeError, ValueError):
            continue
    return out


def parameter_range(spec: SweepSpec, budgets: Sequence[dict[str, float]]) -> str:
    """``decoder parameters (params.roi_head): 0.41M .. 1.62M over 12 edge configs``.

    Raises:
        HarnessError: a constraint that no edge config of the space meets.
    """
    assert spec.search is not None
    counts = [b["params.roi_head"] for b in budgets if "params.roi_head" in b]
    for c in spec.search.constraints:
        values = [b[c.key] for b in budgets if c.key in b]
        if values and not any(c.holds(v) for v in values):
            raise HarnessError(
                f"{spec.path}: search.constraints: no config of the space meets {c.text!r} "
                f"({c.key} is {min(values):,.0f} .. {max(values):,.0f} at its edges); "
                "widen the space or the bound"
            )
    if not counts:
        return "decoder parameters: not an AdaMixer config (no analytic count)"
    limits = spec.search.constraints
    meet = sum(all(c.holds(b[c.key]) for c in limits if c.key in b) for b in budgets)
    within = f"; {meet} meet {', '.join(c.text for c in limits)}" if limits else ""
    return (
        f"decoder parameters (params.roi_head): {min(counts) / 1e6:.2f}M .. "
        f"{max(counts) / 1e6:.2f}M over {len(counts)} edge configs of the space{within}"
    )


def pruner_line(search: SearchSpec) -> str:
    """``pruner: successive_halving (min_resource 200, reduction_factor 2) on bbox_mAP``."""
    if not search.pruner.enabled:
        return "pruner: none (every trial trains to the end)"
    given = ", ".join(f"{k} {v}" for k, v in search.pruner.options.items())
    options = f" ({given})" if given else " (Optuna's defaults)"
    return (
        f"pruner: {search.pruner.type}{options} on {search.objectives[0].metric} at each "
        "evaluation (step: the epoch; the iteration for a run that trains by iterations)"
    )


def front(study: optuna.Study, search: SearchSpec) -> str:
    """The Pareto front (or the best trial) as a text table."""
    objectives = [o.metric for o in search.objectives]
    best = (
        study.best_trials
        if len(study.directions) > 1
        else ([study.best_trial] if any(t.state.name == "COMPLETE" for t in study.trials) else [])
    )
    if not best:
        return "no trial completed: no front yet"
    # trials that share their runs (the same model: equal configs, or configs that differ only
    # in knobs it leaves inert) are one row, with the parameters they agree on
    groups: dict[object, list[optuna.trial.FrozenTrial]] = {}
    for t in sorted(best, key=lambda t: t.number):
        key = tuple(t.user_attrs.get("run_ids", []))
        groups.setdefault(key or t.number, []).append(t)
    rows = []
    for trials in groups.values():
        first = trials[0]
        shared = {
            k: v for k, v in first.params.items() if all(t.params.get(k) == v for t in trials)
        }
        values = [f"{v:.4g}" for v in first.values]
        runs = ",".join(first.user_attrs.get("run_ids", [])) or "-"
        params = ", ".join(f"{k}={v}" for k, v in shared.items())
        rows.append([",".join(str(t.number) for t in trials), params, *values, runs])
    return format_table(["trial", "params", *objectives, "runs"], rows)


def _prepare_data(spec: SweepSpec, profile: str, root: Path) -> None:
    assert spec.search is not None
    edges = probe_axes(spec.search)
    one = replace(edges, items=edges.items[:1])  # the data are the profile's, any cell will do
    probe = make_plan(replace(spec, axes=one), profile, root).cells[:1]
    for line in make_synthetic_data(probe, Path.cwd()):
        print(line)
    problems = missing_data(probe)
    if problems:
        raise HarnessError(
            f"{spec.path}: profile {profile}: {'; '.join(problems)}; nothing was submitted"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the search CLI; returns the exit code."""
    args = parser().parse_args(argv)
    setup_logging(args.verbose)
    spec = load_spec(args.spec)
    if spec.search is None:
        raise HarnessError(
            f"{spec.path}: no 'search' block; a grid sweep runs with python -m harness.launch"
        )
    profile = spec.profile(args.profile).name
    spec = replace(spec, search=spec.search.for_profile(profile))
    search = spec.search
    assert search is not None
    root = runs_root(args.runs_dir)
    folder = sweep_dir(root, spec.name, profile)
    if args.follow:
        return follow(folder)
    n_trials = args.trials or search.trials
    objectives = ", ".join(f"{o.direction} {o.metric}" for o in search.objectives)
    print(
        f"search {spec.name} | profile {profile} | {n_trials} trials, "
        f"{search.in_flight} in flight | {search.sampler} sampler | {objectives} | "
        f"storage {shown(search.storage, folder)}"
    )
    print(parameter_range(spec, edge_budgets(spec, profile)))
    print(pruner_line(search))
    if args.dry_run:
        study = load_study(spec, profile, folder, create=False)
        ended = ended_count(study.get_trials(deepcopy=False))
        print(f"dry run: {ended} trials ended so far; nothing was written")
        return 0
    if search.storage != "journal":  # an unreachable database: one line, before data or runs
        load_study(spec, profile, folder)
    _prepare_data(spec, profile, root)
    if args.detach and holder(folder) is None:  # checked and ready: the rest goes to the log
        pid = detach(list(sys.argv[1:] if argv is None else argv), folder)
        print(f"detached: controller {pid}, log {folder / LOG_NAME}")
        print(f"follow it: python -m harness.search {args.spec} --profile {profile} --follow")
        return 0
    name = args.executor or default_executor()
    executor = make_executor(
        name,
        submitit_dir(folder),
        parallel=args.parallel,
        slurm_profile=spec.profile(profile).slurm,
        profiles_dir=[project_root(spec.path) / "slurm" / "profiles", REPO / "slurm" / "profiles"],
    )
    executor.preflight()  # a cluster that is down: one line before the study asks anything
    controller = Controller(spec, profile, root, executor, args.wandb, poll_s=args.poll)
    study = controller.run(n_trials)
    counts = tally(study.get_trials(deepcopy=False))
    total = sum(counts[k] for k in ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"))
    print(
        f"study {study.study_name}: {counts['COMPLETE']} complete, {counts['PRUNED']} pruned, "
        f"{counts['FAIL']} failed ({counts['INFEASIBLE']} infeasible) of {total} trials; "
        f"{controller.trained} runs trained by this command"
    )
    kind = "Pareto front" if len(search.objectives) > 1 else "best trial"
    print(f"{kind}:")
    print(front(study, search))
    print(f"dashboard: optuna-dashboard {shown(search.storage, folder)}")
    return 0


if __name__ == "__main__":
    run_cli(main)
