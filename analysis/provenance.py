"""Where every printed number came from: the sidecar JSON of a table, and ``explain``'s text.

The sidecar maps each printed cell to the runs it merges, and each run to its record, executor
jobs, W&B run, git commit and checkpoint. It holds no timestamp of its own, so the same records
give the same bytes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

from analysis.cell_text import axis_header, entry_text, metric_header
from analysis.entries import DELTA_PREFIX, Table
from analysis.errors import CellNotFoundError
from analysis.layout import CellState
from analysis.noise import TEST, within_noise

SCHEMA = 1


def provenance(table: Table, source: str = "") -> dict[str, Any]:
    """The sidecar of a table as plain JSON data.

    ``cells`` lists every printed cell with the label and value of each sweep cell (seed) it
    merges; ``runs`` maps each of those labels, once, to its run id, status, record, executor
    jobs, W&B run, git commit and checkpoint.

    Args:
        table: the built table.
        source: the spec file it was built from (as given on the command line).
    """
    layout = table.layout
    cells, runs = [], {}
    for row, entries in zip(table.frame.index, table.frame.to_numpy(), strict=True):
        for col, entry in zip(table.frame.columns, entries, strict=True):
            metric = entry.metric.removeprefix(DELTA_PREFIX)
            members = []
            for cell in entry.cells:
                if cell.label not in runs:
                    runs[cell.label] = _run(cell)
                member = {"label": cell.label, "value": cell.value(metric)}
                if cell.status == "stale" and cell.record is not None:
                    member["stale_value"] = cell.record.value(metric)  # shown, never printed
                if metric in cell.sources:
                    member["source"] = cell.sources[metric]
                members.append(member)
            extra = {"p": _rounded(entry.p_value)} if entry.is_delta else {}
            cells.append(
                {
                    **extra,
                    "row": str(row),
                    "group": col[0] if isinstance(col, tuple) else None,
                    "metric": entry.metric,
                    "text": entry_text(entry, layout.kind, "csv"),  # plain: bold is no change
                    "state": entry.state,
                    "mean": _rounded(entry.mean),
                    "std": _rounded(entry.std),
                    "n": entry.n,
                    "expected": entry.expected,
                    "runs": members,
                }
            )
    return {
        "schema": SCHEMA,
        "sweep": layout.sweep,
        "profile": layout.profile,
        "spec": source,
        "kind": layout.kind,
        "title": layout.title,
        "label": layout.label,
        "rows": layout.rows,
        "columns": layout.columns,
        "not_done": [p.line(layout.sweep) for p in table.problems],
        "runs": runs,
        "cells": cells,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def dumps(data: Mapping[str, Any]) -> str:
    """Deterministic JSON text: sorted keys, one run and one printed cell per line (readable
    diffs, and the C encoder, which an indented dump cannot use: ten times faster on a
    10,000-run sweep)."""

    def enc(value: Any) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)

    head = {k: v for k, v in data.items() if k not in ("runs", "cells")}
    parts = [f"{enc(k)}: {enc(v)}" for k, v in sorted(head.items())]
    runs = data.get("runs", {})
    parts.append(
        '"runs": {' + ",".join(f"\n{enc(k)}: {enc(runs[k])}" for k in sorted(runs)) + "\n}"
    )
    parts.append('"cells": [' + ",".join(f"\n{enc(c)}" for c in data.get("cells", [])) + "\n]")
    return "{" + ",\n".join(parts) + "}\n"


def _run(cell: CellState) -> dict[str, Any]:
    """What one sweep cell's run is and where it lives (computed once per cell)."""
    out: dict[str, Any] = {
        "seed": cell.seed,
        "status": cell.status,
        "run_id": cell.run_id,
    }
    if cell.problem:
        out["problem"] = cell.problem
    if cell.older:
        out["older"] = cell.older
    if cell.evaluated is not None:
        out["evaluated_checkpoint"] = dict(cell.evaluated)
    record = cell.record
    if record is not None:
        path = str(record.path)
        # string joins, not pathlib: this runs once per record, 10,000 times on a big sweep
        checkpoint = (
            os.path.join(os.path.dirname(path), record.checkpoint) if record.checkpoint else None
        )
        out.update(
            record=path,
            record_run_id=record.run_id,
            jobs=list(record.jobs),
            wandb={"id": record.wandb_id, "mode": record.wandb_mode, "synced": record.wandb_synced},
            commit=record.commit,
            dirty=record.dirty,
            checkpoint=checkpoint,
            run_dir=record.run_dir,
            updated=record.updated,
        )
    return out


def find(data: Mapping[str, Any], row: str, column: str) -> dict[str, Any]:
    """The sidecar cell at (row, column), matched the way a reader names them.

    A row matches its value label (``2``) or ``axis=value`` (``adaptive_groups=2``, ``K=2``); a
    column matches its metric key or header (``bbox_mAP``, ``AP``, ``ΔAP``), and when the columns
    are an axis, ``value/metric`` (``16/AP``), ``AP (r=16)``, or the value alone (``16``) when the
    table has one metric per value.

    Raises:
        CellNotFoundError: no such row or column; lists the valid ones.
    """
    cells = data["cells"]
    rows = list(dict.fromkeys(c["row"] for c in cells))
    row_key = _match(row, {r: _row_names(data, r) for r in rows}, "row", rows)
    columns = list(dict.fromkeys((c["group"], c["metric"]) for c in cells))
    names = {c: _column_names(data, c, columns) for c in columns}
    shown = [_column_names(data, c, columns)[0] for c in columns]
    col_key = _match(column, names, "column", shown)
    return next(c for c in cells if c["row"] == row_key and (c["group"], c["metric"]) == col_key)


def _match(wanted: str, names: Mapping[Any, Sequence[str]], what: str, valid: Sequence[str]) -> Any:
    for key, aliases in names.items():
        if wanted in aliases:
            return key
    raise CellNotFoundError(f"{what} {wanted!r} is not in the table; valid: {', '.join(valid)}")


def _row_names(data: Mapping[str, Any], row: str) -> list[str]:
    axis = data["rows"]
    return [row, f"{axis}={row}", f"{axis_header(axis, 'md')}={row}"]


def _column_names(
    data: Mapping[str, Any], col: tuple[str | None, str], columns: Sequence[tuple[str | None, str]]
) -> list[str]:
    group, metric = col
    kind = data["kind"]
    heads = [metric_header(metric, kind, "md"), metric]
    if group is None:
        return heads
    axis = axis_header(data["columns"], "md")
    names = [f"{heads[0]} ({axis}={group})"] + [f"{group}/{h}" for h in heads]
    if sum(1 for g, _ in columns if g == group) == 1:
        names.append(group)
    return names


def explain(data: Mapping[str, Any], cell: Mapping[str, Any]) -> str:
    """The provenance chain of one sidecar cell as readable lines."""
    where = f"{data['sweep']} ({data['profile']} profile), row {cell['row']}"
    column = cell["metric"] if cell["group"] is None else f"{cell['group']}/{cell['metric']}"
    lines = [f"{where}, column {column}: {cell['text']} [{cell['state']}]"]
    if cell["mean"] is not None:
        spread = f", std {cell['std']:.4f}" if cell["std"] is not None else ""
        lines.append(
            f"  mean {cell['mean']:.4f}{spread} over {cell['n']} of {cell['expected']} cell(s)"
        )
    if "p" in cell and cell["mean"] is not None:
        if cell["p"] is None:
            lines.append("  not tested against noise: a single seed on either side")
        else:
            verdict = "within noise" if within_noise(cell["p"]) else "beyond noise"
            lines.append(
                f"  {TEST.split(',')[0]} against the baseline row's seeds: p = {cell['p']:.4f}, "
                f"{verdict} (within noise: {TEST.split(', ', 1)[1]})"
            )
    for member in cell["runs"]:
        run = {**data["runs"].get(member["label"], {}), **member}
        lines.append(
            f"  {run['label']}: {run.get('status', '?')}, run {run.get('run_id') or '-'}, "
            f"value {run['value']}"
        )
        if "source" in run:
            lines.append(f"    computed    {run['source']}")
        if "problem" in run:
            lines.append(f"    problem     {run['problem']}")
        if "record" not in run:
            if "source" not in run:
                lines.append("    no record yet")
            continue
        if "older" in run:
            lines.append(f"    older run   {run['record_run_id']}: {run['older']}")
        elif run["record_run_id"] != run["run_id"]:
            old = f", whose value was {run['stale_value']}" if "stale_value" in run else ""
            lines.append(f"    record      of an older run {run['record_run_id']} (stale){old}")
        wandb = run["wandb"]
        synced = "synced" if wandb["synced"] else "not synced"
        checkpoint = run["checkpoint"] or "-"
        if "evaluated_checkpoint" in run:
            weights = run["evaluated_checkpoint"]
            checkpoint = f"{weights['file']} (sha256 {weights['sha256']})"
            lines.append("    evaluated   a given checkpoint, not trained by the sweep")
        lines += [
            f"    record      {run['record']}",
            f"    jobs        {', '.join(run['jobs']) or '-'}",
            f"    wandb       {wandb['id'] or '-'} ({wandb['mode'] or '?'}, {synced})",
            f"    commit      {run['commit'] or '-'}{' (dirty)' if run['dirty'] else ''}",
            f"    checkpoint  {checkpoint}",
        ]
    return "\n".join(lines)
