"""The figures of a search: AP against decoder parameters with the front and the Table 6 grid,
the optimisation history with every run's evaluations, and the parameters' importances.

Everything comes from the records (``analysis.search``); the study is not read. Importances are
Optuna's PED-ANOVA over an in-memory study rebuilt from the done configs (it needs no scikit-learn
and is seeded-free, so the same records give the same figure).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from analysis.curves import COLUMN_WIDTH_IN, STYLE, declutter, plt, save  # Agg, set there
from analysis.layout import CellState
from analysis.pareto import Point, pareto_front, sweep_points
from harness.spec.search_model import SearchSpec

logger = logging.getLogger(__name__)
GRID_SPEC = Path("sweeps") / "table6.yaml"  # the paper's grid, overlaid where it has records
MIN_IMPORTANCE_CONFIGS = 4


@dataclass(frozen=True)
class Stopped:
    """A pruned config: its decoder size (millions), last AP (percent) and where it stopped."""

    label: str
    params_m: float
    ap: float
    step: int


def stopped_points(cells: Sequence[CellState], metric: str) -> list[Stopped]:
    """The pruned configs with their last evaluation (AP only: other metrics have no axis)."""
    out = []
    for c in cells:
        r = c.record
        if c.status != "pruned" or r is None or not r.history or metric != "bbox_mAP":
            continue
        ap, params = r.history[-1].get("bbox_mAP"), r.params.get("roi_head")
        if isinstance(ap, int | float) and params:
            step = int((r.pruned or {}).get("step", r.history[-1].get("iter", 0)))
            out.append(Stopped(c.row_title, params / 1e6, 100.0 * ap, step))
    return out


def search_pareto_figure(
    points: Sequence[Point], stopped: Sequence[Stopped], grid: Sequence[Point], title: str
) -> Figure:
    """AP against decoder parameters: every done config, the front, pruned configs at their last
    evaluation and the Table 6 grid cells."""
    front = pareto_front(points)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 3.3), layout="constrained")
        ax.errorbar([p.params_m for p in points], [p.ap for p in points],
                    yerr=[p.ap_std or 0.0 for p in points], fmt="o", color="C0", ecolor="0.6",
                    capsize=2, clip_on=False, label=f"trials ({len(points)} configs)")  # fmt: skip
        if stopped:
            ax.plot([s.params_m for s in stopped], [s.ap for s in stopped], "x", color="0.5",
                    clip_on=False, label="pruned (AP at its last evaluation)")  # fmt: skip
        if grid:
            ax.plot([g.params_m for g in grid], [g.ap for g in grid], "s", color="C2",
                    markerfacecolor="none", clip_on=False,
                    label=f"Table 6 grid ({len(grid)} cells)")  # fmt: skip
        ax.plot([p.params_m for p in front], [p.ap for p in front], "-", color="C3", marker="o",
                markersize=7, markerfacecolor="none", drawstyle="steps-post", clip_on=False,
                label="Pareto front of the trials")  # fmt: skip
        ax.set_xlabel("decoder params (M)")
        ax.set_ylabel("AP (%)")
        ax.set_title(title, loc="left")
        ax.margins(x=0.15, y=0.2)
        low, high = ax.get_ylim()
        ax.set_ylim(max(low, 0.0), max(high, max(low, 0.0) + 1.0) * 1.15)  # room for labels
        middle = sum(ax.get_xlim()) / 2
        labels = [
            ax.annotate(p.label.removesuffix(" (front)"), (p.params_m, p.ap),
                        xytext=(-4 if p.params_m > middle else 4, 3), textcoords="offset points",
                        ha="right" if p.params_m > middle else "left", fontsize=5,
                        arrowprops={"arrowstyle": "-", "color": "0.55", "linewidth": 0.5})
            for p in front
        ]  # fmt: skip
        fig.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=6)
        declutter(fig, labels)
    return fig


def history_figure(cells: Sequence[CellState], search: SearchSpec, title: str) -> Figure | None:
    """Left: the objective of each trial's config by the trial that trained it, with the best so
    far; right: every run's evaluations by step, pruned runs dashed and ending in a cross."""
    objective = next((o for o in search.objectives if not o.metric.startswith("params.")), None)
    if objective is None:
        return None
    key = objective.metric.removeprefix("history.")
    scale = 100.0 if objective.metric == "bbox_mAP" else 1.0
    unit = "AP (%)" if objective.metric == "bbox_mAP" else objective.metric
    done = sorted(
        ((int((c.record.search or {}).get("trial", -1)), scale * v)
         for c in cells if c.status == "done" and c.record is not None
         and (v := c.record.value(objective.metric)) is not None),
    )  # fmt: skip
    if not done:
        return None
    sign = 1.0 if objective.direction == "maximize" else -1.0
    best, running = [], -math.inf
    for _, v in done:
        running = max(running, sign * v)
        best.append(sign * running)
    with plt.rc_context(STYLE):
        fig, (left, right) = plt.subplots(1, 2, figsize=(2 * COLUMN_WIDTH_IN, 2.4),
                                          layout="constrained")  # fmt: skip
        left.plot([n for n, _ in done], [v for _, v in done], "o", color="C0", label="config")
        left.plot([n for n, _ in done], best, "-", color="C3", drawstyle="steps-post",
                  label="best so far")  # fmt: skip
        stops = sorted(
            (int((r.pruned or {}).get("trial", -1)), scale * float((r.pruned or {})["value"]))
            for c in cells if c.status == "pruned" and (r := c.record) is not None
            and isinstance((r.pruned or {}).get("value"), int | float)
        )  # fmt: skip
        if stops:
            left.plot([n for n, _ in stops], [v for _, v in stops], "x", color="0.4",
                      label="pruned (value where it stopped)")  # fmt: skip
        left.set_xlabel("trial (that trained the config)")
        left.xaxis.set_major_locator(MaxNLocator(integer=True))
        left.set_ylabel(unit)
        left.set_title(title, loc="left")
        left.legend(loc="best", frameon=True, framealpha=0.9)
        for c in cells:
            r = c.record
            if r is None or c.status not in ("done", "pruned"):
                continue
            steps = [(h.get("epoch") or h.get("iter"), h.get(key)) for h in r.history]
            pts = [(s, scale * v) for s, v in steps if isinstance(v, int | float) and s is not None]
            if not pts:
                continue
            style = "o--" if c.status == "pruned" else "o-"
            right.plot([s for s, _ in pts], [v for _, v in pts], style, markersize=2,
                       color="0.5" if c.status == "pruned" else "C0", linewidth=0.8)  # fmt: skip
            if c.status == "pruned":
                right.plot([pts[-1][0]], [pts[-1][1]], "x", color="0.3")
        right.set_xlabel("step (epoch; iteration if trained by iterations)")
        right.set_ylabel(unit)
        right.set_title("evaluations of every run (dashed: pruned)", loc="left")
    return fig


def importances(cells: Sequence[CellState], search: SearchSpec) -> dict[str, float]:
    """PED-ANOVA importance of each searched knob for the first trained objective, from the
    done configs (empty when there are too few to say anything)."""
    import optuna

    from harness.search.space import distributions, stored_choice

    objective = next((o for o in search.objectives if not o.metric.startswith("params.")), None)
    if objective is None or len(search.space) < 2:
        return {}
    dists = distributions(search)
    trials, seen = [], set()
    for c in cells:
        r = c.record
        value = r.value(objective.metric) if r is not None and c.status == "done" else None
        if r is None or value is None or c.row_title in seen:
            continue
        params = {p.name: stored_choice(r.overrides.get(p.key)) for p in search.space}
        try:
            trial = optuna.trial.create_trial(params=params, distributions=dists, value=value)
        except ValueError:  # a config outside today's space (the spec changed): not comparable
            continue
        seen.add(c.row_title)
        trials.append(trial)
    if len(trials) < MIN_IMPORTANCE_CONFIGS:
        return {}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=cast(Any, objective.direction))
    study.add_trials(trials)
    evaluator = optuna.importance.PedAnovaImportanceEvaluator()
    return dict(optuna.importance.get_param_importances(study, evaluator=evaluator))


def importance_figure(scores: dict[str, float], metric: str, n: int, title: str) -> Figure:
    """Horizontal bars: each knob's share of the objective's variation."""
    names = sorted(scores, key=scores.get)  # type: ignore[arg-type]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 0.45 * len(names) + 0.9),
                               layout="constrained")  # fmt: skip
        ax.barh(names, [scores[k] for k in names], color="C0")
        ax.set_xlabel(f"importance for {metric} (PED-ANOVA)")
        ax.set_xlim(0, max(1.0, max(scores.values()) * 1.05))
        ax.set_title(f"{title}\n{n} done configs", loc="left")
    return fig


def grid_points(spec_path: Path, profile: str, runs_root: Path) -> list[Point]:
    """The Table 6 cells that have results in this profile (none when the spec or profile is
    absent, or nothing ran)."""
    from analysis.sweep import load_sweep
    from harness.spec import project_root

    path = project_root(spec_path) / GRID_SPEC
    if not path.is_file():
        return []
    try:
        inputs = load_sweep(path, profile, runs_root)
    except Exception as exc:  # an overlay is optional: never the reason a table fails
        logger.info("no Table 6 overlay: %s", str(exc).splitlines()[0] if str(exc) else exc)
        return []
    return sweep_points(inputs.cells)


def search_figures(
    cells: Sequence[CellState], search: SearchSpec, grid: Sequence[Point], name: str,
    title: str, fig_dir: Path,
) -> list[Path]:  # fmt: skip
    """Write the three figures of a search (those that have data); returns the paths."""
    paths: list[Path] = []
    points = sweep_points([c for c in cells if c.status == "done"])
    stopped = stopped_points(cells, "bbox_mAP")
    if points or stopped:
        fig = search_pareto_figure(points, stopped, grid, title)
        paths += save(fig, fig_dir / f"{name}-pareto")
    history = history_figure(cells, search, title)
    if history is not None:
        paths += save(history, fig_dir / f"{name}-history")
    scores = importances(cells, search)
    if scores:
        metric = next(o.metric for o in search.objectives if not o.metric.startswith("params."))
        n = len({c.row_title for c in cells if c.status == "done"})
        paths += save(importance_figure(scores, metric, n, title), fig_dir / f"{name}-importance")
    else:
        logger.info("%s: fewer than %d done configs: no importance figure", name,
                    MIN_IMPORTANCE_CONFIGS)  # fmt: skip
    return paths
