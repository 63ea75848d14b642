"""The figures: parameter counts against depth and rank (analytic), AP against decoder size.

Every figure is sized for one column of a two-column paper (3.3 in wide), with axis labels that
carry units and a legend, and is saved as PNG (300 dpi) and PDF without timestamps, so the same
inputs give the same files.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never open a window (CLIs, CI, SLURM nodes)

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

from analysis.counts import DepthCurve, RankCurve
from analysis.pareto import Point, pareto_front

logger = logging.getLogger(__name__)

COLUMN_WIDTH_IN = 3.3
STYLE: dict[Any, Any] = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.hashsalt": "lors",
}


def save(fig: Figure, stem: Path) -> list[Path]:
    """Write ``stem.png`` and ``stem.pdf`` (no timestamps) and close the figure."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    # not with_suffix: a stem like "table6.smoke-pareto" already has a dot in it
    png, pdf = stem.parent / f"{stem.name}.png", stem.parent / f"{stem.name}.pdf"
    fig.savefig(png, dpi=300, metadata={"Software": None})
    fig.savefig(pdf, metadata={"CreationDate": None, "Producer": None, "Creator": None})
    plt.close(fig)
    logger.info("wrote %s and %s", png, pdf)
    return [png, pdf]


def depth_figure(curves: Sequence[DepthCurve]) -> Figure:
    """Parameters per stacked layer against the number of layers N (the analytic Table 1).

    One panel per stacked weight (plain stacking against its LORS form), so each panel compares
    like with like.
    """
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(
            len(curves),
            1,
            figsize=(COLUMN_WIDTH_IN, 1.5 + 1.25 * len(curves)),
            sharex=True,
            layout="constrained",
            squeeze=False,
        )
        for ax, curve in zip(axes[:, 0], curves, strict=True):
            ax.plot(curve.depths, curve.plain_m, "o-", color="0.35", label="plain stacking")
            ax.plot(curve.depths, curve.lors_m, "s-", color="C0", label=curve.lors_name)
            ax.set_title(curve.title, loc="left")
            ax.set_ylabel("params / layer (M)")
            ax.set_ylim(bottom=0)
            ax.legend(loc="center right", frameon=False)
        axes[-1, 0].set_xlabel("stacked layers N")
        axes[-1, 0].set_xticks(list(curves[0].depths))
    return fig


def rank_figure(curve: RankCurve) -> Figure:
    """Decoder parameters against the adaptive rank r, one line per number of groups K."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 2.4), layout="constrained")
        markers = "osd^v"
        for i, (groups, values) in enumerate(curve.by_groups.items()):
            marker = markers[i % len(markers)]
            ax.plot(curve.ranks, values, marker=marker, label=f"LORS, K={groups}")
        ax.axhline(
            curve.plain_m, color="0.35", linestyle="--", linewidth=1.0, label=curve.plain_name
        )
        ax.set_xscale("log", base=2)
        ax.set_xticks(list(curve.ranks), [str(r) for r in curve.ranks])
        ax.set_xlabel("adaptive rank r")
        ax.set_ylabel("decoder params (M)")
        top = max([curve.plain_m, *(v for vs in curve.by_groups.values() for v in vs)])
        ax.set_ylim(0, top * 1.12)
        ax.legend(loc="upper left", frameon=True, framealpha=0.9)
    return fig


def pareto_figure(points: Sequence[Point], title: str) -> Figure:
    """AP against decoder parameters for the cells of a sweep, with the Pareto front ringed.

    Every point is labelled with its cell when there are at most 12; beyond that only the
    points on the front are, to keep the labels legible. Labels of points in the right half sit
    to their left, so none runs off the figure.
    """
    front = pareto_front(points)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, 2.6), layout="constrained")
        ax.errorbar(
            [p.params_m for p in points],
            [p.ap for p in points],
            yerr=[p.ap_std or 0.0 for p in points],
            fmt="o",
            color="C0",
            ecolor="0.6",
            capsize=2,
            clip_on=False,  # a point at AP 0 sits on the axis: draw all of it
            label="cells (mean ± std over seeds)",
        )
        ax.plot(
            [p.params_m for p in front],
            [p.ap for p in front],
            "-",
            color="C3",
            marker="o",
            markersize=7,
            markerfacecolor="none",
            drawstyle="steps-post",
            clip_on=False,
            label="Pareto front",
        )
        ax.set_xlabel("decoder params (M)")
        ax.set_ylabel("AP (%)")
        ax.set_title(title, loc="left")
        ax.margins(x=0.2, y=0.25)
        low, high = ax.get_ylim()
        ax.set_ylim(max(low, 0.0), max(high, max(low, 0.0) + 1.0))  # AP is never negative
        middle = sum(ax.get_xlim()) / 2
        shown = points if len(points) <= 12 else front
        labels = [
            ax.annotate(
                p.label,
                (p.params_m, p.ap),
                xytext=(-4 if p.params_m > middle else 4, 2),
                textcoords="offset points",
                ha="right" if p.params_m > middle else "left",
                fontsize=6,
                arrowprops={"arrowstyle": "-", "color": "0.55", "linewidth": 0.5},
            )
            for p in shown
        ]
        ax.legend(loc="best", frameon=True, framealpha=0.9)
        declutter(fig, labels)
    return fig


def declutter(fig: Figure, labels: Sequence[Annotation]) -> None:
    """Move point labels up, a line at a time, until none overlaps a label placed before it."""
    for label in labels:
        label.set_in_layout(False)  # the layout must not shrink the axes around moved labels
    fig.canvas.draw()  # final limits and layout, so that extents are where they will be drawn
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]

    def extent(label: Annotation) -> Bbox:
        # the text alone: an Annotation's own extent includes its leader line down to the point
        return Text.get_window_extent(label, renderer)

    placed: list[Bbox] = []
    for label in sorted(labels, key=lambda a: a.xy[1]):
        dy = 2.0
        for _ in range(20):
            if not any(extent(label).overlaps(other) for other in placed):
                break
            dy += 7.0  # about one 6 pt line, in points
            label.set_position((label.xyann[0], dy))
        placed.append(extent(label))
