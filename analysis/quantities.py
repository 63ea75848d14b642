"""What a table can print: metric keys, their headers, units, precision and direction.

Records hold COCO metrics as fractions and parameter counts as integers; tables print AP in
percent with one decimal and parameters in millions with two decimals (the LORS paper prints
decoder sizes with up to two decimals, e.g. 9.82M; one would hide the differences between the
rank and group settings of Tables 6 and 7). Count tables (``kind: counts``) print ``counts.*``
quantities computed by :mod:`analysis.counts`, also in millions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from analysis.errors import TableSpecError

#: COCO bbox metrics a record holds (docs/record.md), with their Markdown and LaTeX headers.
RECORD_METRICS: dict[str, tuple[str, str]] = {
    "bbox_mAP": ("AP", "AP"),
    "bbox_mAP_50": ("AP50", "AP$_{50}$"),
    "bbox_mAP_75": ("AP75", "AP$_{75}$"),
    "bbox_mAP_s": ("APs", "AP$_{S}$"),
    "bbox_mAP_m": ("APm", "AP$_{M}$"),
    "bbox_mAP_l": ("APl", "AP$_{L}$"),
}

#: Parameter-count keys of a record (``params.<key>``), with a short header.
PARAM_KEYS: dict[str, str] = {
    "total": "Params",
    "backbone": "Backbone",
    "neck": "Neck",
    "rpn_head": "Queries",
    "roi_head": "Decoder",
    "roi_head_shared": "Dec. shared",
    "roi_head_private": "Dec. private",
}

#: Count-table quantities (``counts.<key>``), per stacked layer: (Markdown/CSV, LaTeX) header.
COUNT_KEYS: dict[str, tuple[str, str]] = {
    "plain_static": ("Proj. plain", "Proj.~plain"),
    "lors_t": ("Proj. LORS_T", "Proj.~LORS$_T$"),
    "plain_adaptive": ("ASM plain", "ASM plain"),
    "lors_a": ("ASM LORS_A", "ASM LORS$_A$"),
}

#: Short names of the knob-contract axes (method.md section 7): (Markdown/CSV, LaTeX).
AXIS_NAMES: dict[str, tuple[str, str]] = {
    "adaptive_groups": ("K", "$K$"),
    "adaptive_rank": ("r", "$r$"),
    "static_rank": ("r_T", "$r_T$"),
    "num_stages": ("N", "$N$"),
    "num_groups": ("G", "$G$"),
    "in_points": ("P_in", r"$P_\mathrm{in}$"),
    "out_points": ("P_out", r"$P_\mathrm{out}$"),
    "num_queries": ("Queries", "Queries"),
    "label": ("", ""),
}


def short_axis(axis: str) -> str:
    """The plain-text symbol of an axis (``adaptive_rank`` -> ``r``), else its name."""
    return AXIS_NAMES.get(axis, (axis, axis))[0]


@dataclass(frozen=True)
class Quantity:
    """How one metric key is printed.

    Attributes:
        key: the key in the table block (``bbox_mAP``, ``params.roi_head``, ``counts.lors_a``).
        markdown: header in Markdown and CSV.
        latex: header in LaTeX (math allowed).
        scale: factor from the raw value to the printed unit.
        decimals: digits after the point.
        higher_is_better: direction of "best" (bold).
        spread: whether mean ± std over seeds is meaningful (not for counts, which never vary).
    """

    key: str
    markdown: str
    latex: str
    scale: float
    decimals: int
    higher_is_better: bool
    spread: bool

    def display(self, raw: float) -> float:
        """Convert a raw value (fraction, count) to the printed unit."""
        return raw * self.scale


@functools.cache
def valid_keys(kind: str) -> tuple[str, ...]:
    """Every metric key a table of ``kind`` (``runs`` or ``counts``) may ask for."""
    if kind == "counts":
        return tuple(f"counts.{k}" for k in COUNT_KEYS)
    return (*RECORD_METRICS, *(f"params.{k}" for k in PARAM_KEYS))


@functools.cache  # called for every entry of a table; the answer never changes
def quantity(key: str, kind: str = "runs") -> Quantity:
    """The printing rules of a metric key.

    Args:
        key: a record metric (``bbox_mAP``), ``params.<part>`` or, in count tables,
            ``counts.<structure>``.
        kind: the table kind, ``runs`` or ``counts``.

    Raises:
        TableSpecError: the key is not one the table kind knows; the message lists the valid ones.
    """
    if key not in valid_keys(kind):
        raise TableSpecError(
            f"table.metrics: unknown metric {key!r} for a {kind} table; "
            f"valid: {', '.join(valid_keys(kind))}"
        )
    if key in RECORD_METRICS:
        md, tex = RECORD_METRICS[key]
        return Quantity(key, md, tex, 100.0, 1, higher_is_better=True, spread=True)
    family, part = key.split(".", 1)
    if family == "params":
        head = PARAM_KEYS[part]
        return Quantity(key, f"{head} (M)", f"{head} (M)", 1e-6, 2, False, spread=True)
    md, tex = COUNT_KEYS[part]
    return Quantity(key, f"{md} (M)", f"{tex} (M)", 1e-6, 2, False, spread=False)
