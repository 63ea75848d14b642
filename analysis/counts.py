"""Count tables and curves: parameter counts computed from the knobs, no run needed.

A ``kind: counts`` sweep (``sweeps/table1.yaml``) sets knobs of the knob contract (method.md
section 7) through its profile and axis overrides; every number comes from
``lors.adamixer_counting`` (the stacked weights of Table 1, counted by its ``lors.counting``
primitives, and the whole decoder of the rank curve), with the knobs read and checked by
``lors.adamixer_knobs`` as a spec's are. Knobs a spec leaves out take the defaults of
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
from dataclasses import dataclass, replace
from typing import Any

from analysis.errors import TableSpecError
from analysis.layout import CellState
from lors.adamixer_counting import (
    count_decoder,
    generator_params,
    mixing_weights,
    projection_params,
)
from lors.adamixer_knobs import (
    LORS_KEY,
    ROI_KEY,
    DecoderKnobs,
    LorsCfg,
    checked_knobs,
    config_from_overrides,
    parse_lors_cfg,
)
from lors.counting import ParamCount
from lors.errors import ConfigError


def knobs_from(overrides: Mapping[str, Any]) -> DecoderKnobs:
    """Read the knobs from dotted overrides (``model.roi_head.num_stages``, ...).

    ``model.roi_head.lors_cfg`` may be given whole (a mapping) or key by key; without it the
    release's LORS settings apply (``adaptive_groups`` 1 per stage), since every count table has
    LORS columns. The values go through ``lors.adamixer_knobs``, as a spec's do.

    Raises:
        TableSpecError: a bad knob, with the message ``lors.adamixer_knobs`` gives a spec.
    """
    with_lors = {**overrides, LORS_KEY: overrides.get(LORS_KEY) or {}}
    try:
        return checked_knobs(config_from_overrides(with_lors))
    except ConfigError as exc:
        raise TableSpecError(str(exc)) from None


def _method(k: DecoderKnobs) -> LorsCfg:
    """The LORS settings of Table 1's LORS columns: the method itself (LORS_T and LORS_A, both
    parts) at the ranks and groups of ``k``, whatever ``adaptive``/``static``/``parts`` say."""
    lors = k.lors_cfg or LorsCfg(adaptive_groups=(1,) * k.num_stages)  # knobs_from's default
    return replace(lors, adaptive=True, static=True, parts="both")


def stacks(k: DecoderKnobs) -> dict[str, tuple[ParamCount, str]]:
    """The four stacks of Table 1 for these knobs, each with the ``lors.counting`` call that
    counted it (``lors.adamixer_counting`` makes the call)."""
    lors, n = _method(k), k.num_stages
    d_in, d = k.projection_shape
    asm = [w for w in mixing_weights(k) if w.name == "S"]
    shown = f"[S x{asm[0].count} ({asm[0].d_in}x{asm[0].d_out})]"
    groups = lors.adaptive_groups
    k_shown = groups[0] if len(set(groups)) == 1 else groups  # one K for all, as a spec writes it
    return {
        "counts.plain_static": (
            projection_params(k, None),
            f"plain_static_params({d_in}, {d}, num_layers={n})",
        ),
        "counts.lors_t": (
            projection_params(k, lors),
            f"static_lors_params({d_in}, {d}, num_layers={n}, rank={lors.static_rank})",
        ),
        "counts.plain_adaptive": (
            generator_params(k, None, asm),
            f"plain_adaptive_params({d}, {shown}, num_layers={n})",
        ),
        "counts.lors_a": (
            generator_params(k, lors, asm),
            f"adaptive_lors_params({d}, {shown}, num_layers={n}, rank={lors.adaptive_rank}, "
            f"groups={k_shown})",
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
    per_depth = [stacks(knobs_from({**overrides, f"{ROI_KEY}.num_stages": n})) for n in depths]

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
    static_rank = _method(k).static_rank

    def total_m(r: int, g: int) -> float:
        lors = dict(adaptive_rank=r, adaptive_groups=g, static_rank=static_rank)
        return count_decoder(replace(k, lors_cfg=parse_lors_cfg(lors, k.num_stages)))["total"] / 1e6

    by_groups = {g: tuple(total_m(r, g) for r in ranks) for g in groups}
    plain = count_decoder(DecoderKnobs(num_stages=k.num_stages))["total"] / 1e6
    return RankCurve(tuple(ranks), by_groups, "AdaMixer, plain", plain)
