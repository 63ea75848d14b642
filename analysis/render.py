"""A built table as LaTeX (booktabs, through pandas' Styler), Markdown and CSV text.

Each renderer is a function of the table alone, so the same records give the same bytes. The
LaTeX is a complete ``table`` float with caption and label, ready to ``\\input`` (it needs
``\\usepackage{booktabs}``).
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from analysis.cell_text import (
    OLDER_MARK,
    axis_header,
    csv_fields,
    entry_text,
    latex_escape,
    metric_header,
    value_header,
)
from analysis.entries import DELTA_PREFIX, Table
from analysis.layout import METRICS_AXIS
from analysis.noise import TEST
from analysis.quantities import quantity, short_axis

SMOKE_NOTE = "{profile} profile: smoke-test numbers, not paper results"


def smoke_note(table: Table) -> str:
    """``Smoke profile: smoke-test numbers, not paper results`` for a non-paper table."""
    text = SMOKE_NOTE.format(profile=table.layout.profile)
    return text[:1].upper() + text[1:]


def notes(table: Table, fmt: str, smoke: bool = True) -> list[str]:
    """The sentences under the title: the smoke warning, then how to read the cells."""
    out = []
    if smoke and not table.layout.is_paper:
        out.append(smoke_note(table) + ".")
    entries = list(table.frame.to_numpy().ravel())
    if any(e.expected > 1 and e.mean is not None for e in entries):
        pm = r"$\pm$" if fmt == "latex" else "±"
        out.append(f"Mean {pm} std over seeds, number of seeds in parentheses.")
    deltas = [e for e in entries if e.is_delta and e.done]
    if deltas:
        out.append(_delta_note(table, fmt, untested=any(e.p_value is None for e in deltas)))
    if table.problems:
        out.append("Cells without a number show the state of their runs.")
    if table.evaluated:
        out.append(evaluated_note(table, fmt))
    out += older_notes(table, fmt)
    return out


def evaluated_note(table: Table, fmt: str) -> str:
    """What the rows after the sweep's are: evaluations of a given checkpoint, one run each."""
    rows = list(table.evaluated)
    names = rows[0] if len(rows) == 1 else ", ".join(rows[:-1]) + " and " + rows[-1]
    what = "an evaluation" if len(rows) == 1 else "evaluations"
    delta = ""
    if table.layout.delta and any(e.is_delta for e in table.frame.to_numpy().ravel()):
        delta = ", no " + metric_header(DELTA_PREFIX + table.layout.delta, table.layout.kind, fmt)
    if fmt == "latex":
        names = latex_escape(names)
    return (
        f"Not trained by the sweep: {names} {'is' if len(rows) == 1 else 'are'} {what} of a "
        f"given checkpoint (python -m harness.evaluate); one run, so no spread{delta}, and not "
        "ranked for bold."
    )


def older_notes(table: Table, fmt: str) -> list[str]:
    """One sentence per distinct change behind the values marked as from older runs."""
    by_reason: dict[str, list[str]] = {}
    for label, why in table.older().items():
        by_reason.setdefault(why, []).append(label)
    out = []
    for why, labels in by_reason.items():
        shown = ", ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")
        text = f"{OLDER_MARK[fmt]} From an older run ({shown}): {why}."
        if fmt == "latex":
            text = OLDER_MARK[fmt] + " " + latex_escape(text.split(" ", 1)[1])
        out.append(text)
    return out


def _delta_note(table: Table, fmt: str, untested: bool) -> str:
    layout = table.layout
    metric = layout.delta or ""
    head = metric_header(DELTA_PREFIX + metric, layout.kind, fmt)
    base = ", ".join(f"{short_axis(a)}={v}" for a, v in (layout.baseline or {}).items())
    base = latex_escape(base) if fmt == "latex" else base
    mark = "ns" if fmt != "latex" else r"\textsuperscript{ns}"
    text = (
        f"{head}: difference of means from the baseline ({base}); {mark} marks a difference "
        f"within seed noise ({latex_escape(TEST) if fmt == 'latex' else TEST})"
    )
    if fmt == "latex":
        text = text.replace("≥", r"$\geq$")
    if untested:
        text += "; a difference with a single seed on either side is not tested"
    return text + "."


def to_latex(table: Table, source: str = "") -> str:
    """The table as a LaTeX ``table`` float with booktabs rules, caption and label."""
    layout = table.layout
    frame = _texts(table, "latex")
    caption = latex_escape(layout.title.rstrip("."))
    if not layout.is_paper:
        caption = rf"\textbf{{[{latex_escape(smoke_note(table))}]}} {caption}"
    caption = " ".join([caption + ".", *notes(table, "latex", smoke=False)])
    body = frame.style.hide(names=True, axis="index").to_latex(
        hrules=True,
        caption=caption,
        label=layout.label,
        position_float="centering",
        multicol_align="c",
        column_format="l" + "c" * frame.shape[1],
    )
    head = f"% {layout.sweep} ({layout.profile} profile)"
    head += f", generated from {source}" if source else ""
    return f"{head} by analysis/make_tables.py; needs \\usepackage{{booktabs}}\n{body}"


def to_markdown(table: Table) -> str:
    """The table as a GitHub Markdown pipe table with a title line and notes."""
    layout = table.layout
    header, rows = _flat(table, "md")
    lines = [f"**{layout.title}** ({layout.label})", ""]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join([":---", *["---:"] * (len(header) - 1)]) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    extra = notes(table, "md")
    if extra:
        lines += ["", *(f"_{note}_" for note in extra)]
    return "\n".join(lines) + "\n"


def to_csv(table: Table) -> str:
    """The table as CSV for a program: one line per row; per table column its mean (the state in
    words when it has none), then ``std`` and ``n`` for a metric that varies over seeds, and for
    a Δ column the difference and its ``p`` (the test against noise, :mod:`analysis.noise`).

    CSV has no place for a note, so a non-paper table says what it is in its corner cell.
    """
    kind = table.layout.kind
    first = axis_header(table.layout.rows, "csv")
    if not table.layout.is_paper:
        first = f"{first} [{smoke_note(table)}]".lstrip()
    older = table.older()
    if older:
        first = f"{first} [{len(older)} value(s) from older runs: see the .md table]".lstrip()
    if table.evaluated:
        names = ", ".join(table.evaluated)
        first = f"{first} [not trained by the sweep, evaluations of a given checkpoint: {names}]"
    header = [first]
    for name, col in zip(column_names(table, "csv"), table.frame.columns, strict=True):
        header += [name, *(f"{name} {extra}" for extra in _csv_extras(col, kind))]
    rows = []
    for row, entries in zip(table.frame.index, table.frame.to_numpy(), strict=True):
        line = [value_header(str(row), "csv")]
        for col, entry in zip(table.frame.columns, entries, strict=True):
            line += csv_fields(entry, kind, _csv_extras(col, kind))
        rows.append(line)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _csv_extras(col: object, kind: str) -> tuple[str, ...]:
    metric = col[1] if isinstance(col, tuple) else str(col)
    if metric.startswith(DELTA_PREFIX):
        return ("p",)
    return ("std", "n") if quantity(metric, kind).spread else ()


def render(table: Table, fmt: str, source: str = "") -> str:
    """Render in one of ``latex``, ``md``, ``csv``."""
    if fmt == "latex":
        return to_latex(table, source)
    return to_markdown(table) if fmt == "md" else to_csv(table)


def column_names(table: Table, fmt: str = "md") -> list[str]:
    """One flat header per column (``AP``, or ``AP (r=16)`` when the columns are an axis)."""
    layout = table.layout
    out = []
    for col in table.frame.columns:
        if isinstance(col, tuple):
            value, metric = col
            axis = axis_header(layout.columns, fmt)
            where = f"{axis}={value}" if axis else value
            out.append(f"{metric_header(metric, layout.kind, fmt)} ({where})")
        else:
            out.append(metric_header(col, layout.kind, fmt))
    return out


def _flat(table: Table, fmt: str) -> tuple[list[str], list[list[str]]]:
    kind = table.layout.kind
    header = [axis_header(table.layout.rows, fmt), *column_names(table, fmt)]
    rows = [
        [value_header(str(row), fmt), *(entry_text(e, kind, fmt) for e in entries)]
        for row, entries in zip(table.frame.index, table.frame.to_numpy(), strict=True)
    ]
    return header, rows


def _texts(table: Table, fmt: str) -> pd.DataFrame:
    """The frame as LaTeX strings, with escaped headers named so that the corner reads well."""
    layout = table.layout
    frame = table.frame.map(lambda e: entry_text(e, layout.kind, fmt))
    frame.index = pd.Index([value_header(str(r), fmt) for r in frame.index])
    row_name = axis_header(layout.rows, fmt)
    if layout.columns == METRICS_AXIS:
        frame.columns = pd.Index(
            [metric_header(m, layout.kind, fmt) for m in frame.columns], name=row_name
        )
    else:
        frame.columns = pd.MultiIndex.from_tuples(
            [(value_header(v, fmt), metric_header(m, layout.kind, fmt)) for v, m in frame.columns],
            names=[axis_header(layout.columns, fmt), row_name],
        )
    return frame
