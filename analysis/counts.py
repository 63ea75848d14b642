"""Count tables and curves: parameter counts computed from the knobs, no run needed.

A ``kind: counts`` sweep (``sweeps/table1.yaml``) sets knobs of the knob contract (method.md
section 7) through its profile and axis overrides; every cell's values come from
``lors.counting`` (the stacked weights of Table 1) and the rank curve from
``lors.adamixer_counting`` (the whole decoder). Knobs a spec leaves out take the defaults of
``lors.adamixer_knobs`` (plain AdaMixer shapes, the release's LORS settings).

Table 1 compares, per stacked layer, the two weights LORS replaces in a decoder stage:

- ``counts.plain_static`` / ``counts.lors_t``: the output projection of the mixing block,
  Linear(G * P_out * C_g -> C), stacked plainly or as LORS_T (rank ``static_rank``, K = 1);
- ``counts.plain_adaptive`` / ``counts.lors_a``: the generator of the spatial-mixing (ASM) weight
  S, G copies of (P_in x P_out) from the query content, plainly or as LORS_A (rank
  ``adaptive_rank``, K = ``adaptive_groups``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analysis.errors import TableSpecError
from analysis.layout import CellState
from lors.adamixer_counting import decoder_params
from lors.adamixer_knobs import DecoderKnobs, LorsCfg
from lors.counting import (
    ParamCount,
    WeightSpec,
    adaptive_lors_params,
    plain_adaptive_params,
    plain_static_params,
    static_lors_params,
)

ROI = "model.roi_head."
LORS = ROI + "lors_cfg."


@dataclass(frozen=True)
class Knobs:
    """The knob values a count needs (defaults: ``lors.adamixer_knobs``)."""

    num_stages: int
    num_groups: int
    in_points: int
    out_points: int
    content_dim: int
    adaptive_rank: int
    adaptive_groups: int | tuple[int, ...]
    static_rank: int

    @property
    def projection_in(self) -> int:
        """Input features of the output projection, G * P_out * C_g = P_out * C."""
        return self.num_groups * self.out_points * (self.content_dim // self.num_groups)

    @property
    def asm(self) -> list[WeightSpec]:
        """The spatial-mixing weight S, one (P_in x P_out) copy per group."""
        return [WeightSpec("S", self.num_groups, self.in_points, self.out_points)]


def knobs_from(overrides: Mapping[str, Any]) -> Knobs:
    """Read the knobs from dotted overrides (``model.roi_head.num_stages``, ...).

    ``model.roi_head.lors_cfg`` may be given whole (a mapping) or key by key.

    Raises:
        TableSpecError: a knob is not a positive integer (``adaptive_groups``: or a list of them).
    """
    lors = dict(overrides.get(ROI + "lors_cfg") or {})
    lors.update({k.removeprefix(LORS): v for k, v in overrides.items() if k.startswith(LORS)})
    d, cfg = DecoderKnobs(), LorsCfg()

    def knob(key: str, default: int) -> int:
        value = overrides.get(ROI + key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise TableSpecError(f"{ROI}{key}: expected an integer >= 1, got {value!r}")
        return value

    groups = lors.get("adaptive_groups", 1)
    groups = tuple(groups) if isinstance(groups, list | tuple) else groups
    return Knobs(
        num_stages=knob("num_stages", d.num_stages),
        num_groups=knob("num_groups", d.num_groups),
        in_points=knob("in_points", d.in_points),
        out_points=knob("out_points", d.out_points),
        content_dim=knob("content_dim", d.content_dim),
        adaptive_rank=int(lors.get("adaptive_rank", cfg.adaptive_rank)),
        adaptive_groups=groups,
        static_rank=int(lors.get("static_rank", cfg.static_rank)),
    )


def stacks(k: Knobs) -> dict[str, tuple[ParamCount, str]]:
    """The four stacks of Table 1 for these knobs, each with the call that counted it."""
    n, d = k.num_stages, k.content_dim
    asm = f"[S x{k.num_groups} ({k.in_points}x{k.out_points})]"
    return {
        "counts.plain_static": (
            plain_static_params(k.projection_in, d, n),
            f"plain_static_params({k.projection_in}, {d}, num_layers={n})",
        ),
        "counts.lors_t": (
            static_lors_params(k.projection_in, d, n, rank=k.static_rank),
            f"static_lors_params({k.projection_in}, {d}, num_layers={n}, rank={k.static_rank})",
        ),
        "counts.plain_adaptive": (
            plain_adaptive_params(d, k.asm, n),
            f"plain_adaptive_params({d}, {asm}, num_layers={n})",
        ),
        "counts.lors_a": (
            adaptive_lors_params(d, k.asm, n, rank=k.adaptive_rank, groups=k.adaptive_groups),
            f"adaptive_lors_params({d}, {asm}, num_layers={n}, rank={k.adaptive_rank}, "
            f"groups={k.adaptive_groups})",
        ),
    }


def count_cells(cells: Sequence[Any], profile_overrides: Mapping[str, Any]) -> list[CellState]:
    """The states of a count sweep's cells: always done, values per stacked layer.

    Args:
        cells: the spec's cells (``harness.spec`` ``Cell``: label, coords, seed, overrides).
        profile_overrides: the profile's overrides, under each cell's own.
    """
    out = []
    for cell in cells:
        knobs = knobs_from({**profile_overrides, **cell.overrides})
        counted = stacks(knobs)
        out.append(
            CellState(
                label=cell.label,
                coords=dict(cell.coords),
                seed=cell.seed,
                status="done",
                counts={key: count.per_layer for key, (count, _) in counted.items()},
                sources={key: f"lors.counting.{call}" for key, (_, call) in counted.items()},
            )
        )
    return out


@dataclass(frozen=True)
class DepthCurve:
    """Parameters per layer (millions) against N for one stacked weight, plain and LORS."""

    title: str
    lors_name: str
    depths: tuple[int, ...]
    plain_m: tuple[float, ...]
    lors_m: tuple[float, ...]


def depth_curves(overrides: Mapping[str, Any], depths: Sequence[int]) -> list[DepthCurve]:
    """Figure 1's data: the output projection (LORS_T) and the ASM generator (LORS_A)."""
    per_depth = [stacks(knobs_from({**overrides, ROI + "num_stages": n})) for n in depths]

    def series(key: str) -> tuple[float, ...]:
        return tuple(s[key][0].per_layer / 1e6 for s in per_depth)

    return [
        DepthCurve(
            "output projection",
            "LORS$_T$",
            tuple(depths),
            series("counts.plain_static"),
            series("counts.lors_t"),
        ),
        DepthCurve(
            "ASM weight generator",
            "LORS$_A$",
            tuple(depths),
            series("counts.plain_adaptive"),
            series("counts.lors_a"),
        ),
    ]


@dataclass(frozen=True)
class RankCurve:
    """Decoder parameters (millions) against adaptive rank r, one series per K."""

    ranks: tuple[int, ...]
    by_groups: Mapping[int, tuple[float, ...]]
    plain_name: str
    plain_m: float


def rank_curve(
    overrides: Mapping[str, Any], ranks: Sequence[int], groups: Sequence[int] = (1, 2, 3)
) -> RankCurve:
    """Figure 2's data: the whole decoder (``roi_head``) with LORS_A and LORS_T, for each K and r,
    against plain AdaMixer's decoder at its default shapes (the paper's baseline)."""
    k = knobs_from(overrides)
    shape = dict(
        num_stages=k.num_stages,
        num_groups=k.num_groups,
        in_points=k.in_points,
        out_points=k.out_points,
        content_dim=k.content_dim,
    )
    by_groups = {
        g: tuple(
            decoder_params(
                **shape,
                lors_cfg=dict(adaptive_rank=r, adaptive_groups=g, static_rank=k.static_rank),
            )["total"]
            / 1e6
            for r in ranks
        )
        for g in groups
    }
    plain = decoder_params(num_stages=k.num_stages)["total"] / 1e6
    return RankCurve(tuple(ranks), by_groups, "AdaMixer, plain", plain)
