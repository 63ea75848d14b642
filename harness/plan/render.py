"""The plan as a text table (``launch --dry-run`` and ``status``), with decoder parameter counts.

Counts come from ``lors.adamixer_counting`` (pure Python), read from each cell's resolved config;
a config that is not an AdaMixer config shows ``-``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from harness.plan.make import Plan, PlannedCell
from lors.errors import LorsError

Column = tuple[str, Callable[[PlannedCell], str]]


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, with a rule under the headers."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _millions(n: int) -> str:
    return f"{n / 1e6:.2f}M"


class DecoderCounts:
    """Decoder parameter counts per cell, computed once per distinct set of knob values."""

    def __init__(self) -> None:
        self._memo: dict[str, str] = {}

    def __call__(self, pc: PlannedCell) -> str:
        model = pc.config.get("model")
        if not isinstance(model, Mapping) or not isinstance(model.get("roi_head"), Mapping):
            return "-"
        knobs = {k: model["roi_head"].get(k) for k in sorted(model["roi_head"]) if k != "type"}
        key = json.dumps([knobs, (model.get("rpn_head") or {}).get("num_queries")], default=str)
        if key not in self._memo:
            self._memo[key] = self._count(pc.config)
        return self._memo[key]

    @staticmethod
    def _count(cfg: Mapping[str, Any]) -> str:
        try:
            from lors.adamixer_counting import decoder_params_from_config
        except ImportError:  # the counting module is optional for non-AdaMixer sweeps
            return "-"
        try:
            counts = decoder_params_from_config(cfg)
        except (LorsError, KeyError, TypeError, ValueError):
            return "-"
        total = counts.get("total")
        if total is None:
            return "-"
        shared, private = counts.get("shared"), counts.get("private")
        if shared is None or private is None:
            return _millions(total)
        return f"{_millions(total)} ({_millions(shared)} sh + {_millions(private)} pr)"


def plan_columns() -> list[Column]:
    """The dry-run columns: label, run id, status, decoder parameters, resources."""
    return [
        ("label", lambda pc: pc.cell.label),
        ("run id", lambda pc: pc.run_id),
        ("status", lambda pc: pc.status),
        ("decoder params", DecoderCounts()),
        ("resources", lambda pc: pc.cell.resources.short()),
    ]


def render_plan(plan: Plan, columns: Sequence[Column] | None = None) -> str:
    """The plan's table, a header line naming the sweep and a summary line of counts."""
    cols = list(columns or plan_columns())
    rows = [[fn(pc) for _, fn in cols] for pc in plan.cells]
    counts = ", ".join(f"{n} {s}" for s, n in plan.counts().items() if n)
    head = (
        f"sweep {plan.spec.name} | profile {plan.profile.name} | {len(plan.cells)} cells | "
        f"code {plan.code.source_hash}{' (dirty)' if plan.code.dirty else ''} | "
        f"data {plan.data_manifest} | {plan.sweep_dir}"
    )
    return "\n".join([head, format_table([h for h, _ in cols], rows), counts])
