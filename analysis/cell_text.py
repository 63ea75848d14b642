"""The text of one table entry and of its headers, in LaTeX, Markdown or CSV.

Numbers: AP with one decimal, parameters with two; seeds merged as ``mean ± std (n)``; a cell with
some seeds still pending as ``mean ± std (done/expected)``; a cell with nothing to show prints its
state in words (``running``, ``failed``, ``missing`` ...), never a blank or a zero; a position the
sweep has no cell for, and the Δ of the baseline row, print a dash. A Δ within seed noise carries
``ns`` (:mod:`analysis.noise`); a value from an older run (other code, config or data than
today's) carries a dagger, explained under the table.
"""

from __future__ import annotations

from analysis.entries import DELTA_PREFIX, Entry
from analysis.noise import within_noise
from analysis.quantities import AXIS_NAMES, Quantity, quantity

FORMATS = ("latex", "md", "csv")

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
DASH = {"latex": "---", "md": "—", "csv": "—"}
#: after a Δ that is within seed noise (analysis.noise)
NOISE_MARK = {"latex": r"\textsuperscript{ns}", "md": " (ns)", "csv": " (ns)"}
#: after a value that comes (in part) from an older run: other code, config or data than today's
OLDER_MARK = {"latex": r"$^\dagger$", "md": "†", "csv": "†"}


def latex_escape(text: str) -> str:
    """Escape the characters LaTeX treats specially in running text."""
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in text)


def axis_header(axis: str, fmt: str) -> str:
    """The header of an axis: its short symbol when it is a knob, else the name itself."""
    symbol = f"${axis}$" if len(axis) == 1 and axis.isalpha() else latex_escape(axis)
    md, tex = AXIS_NAMES.get(axis, (axis, symbol))
    return tex if fmt == "latex" else md


def value_header(value: str, fmt: str) -> str:
    """An axis value (a row or column label) as printed."""
    if fmt == "latex":
        return latex_escape(value)
    return value.replace("|", r"\|") if fmt == "md" else value


def metric_header(metric: str, kind: str, fmt: str) -> str:
    """The header of a metric column (``AP``, ``Decoder (M)``, ``ΔAP``)."""
    if metric.startswith(DELTA_PREFIX):
        inner = metric_header(metric.removeprefix(DELTA_PREFIX), kind, fmt)
        return rf"$\Delta${inner}" if fmt == "latex" else f"Δ{inner}"
    q = quantity(metric, kind)
    return q.latex if fmt == "latex" else q.markdown


def entry_text(entry: Entry, kind: str, fmt: str) -> str:
    """The printed text of one entry.

    Args:
        entry: the entry.
        kind: the table kind (``runs`` or ``counts``).
        fmt: ``latex``, ``md`` or ``csv`` (CSV is the Markdown text without emphasis).
    """
    if entry.state in ("hole", "baseline"):
        return DASH[fmt]
    if entry.mean is None:
        return _placeholder(entry.state, fmt)
    if entry.is_delta:
        q = quantity(entry.metric.removeprefix(DELTA_PREFIX), kind)
        mark = NOISE_MARK[fmt] if within_noise(entry.p_value) else ""
        return _signed(entry.mean, q.decimals, fmt) + mark + _older(entry, fmt)
    q = quantity(entry.metric, kind)
    mean = _number(entry.mean, q.decimals)
    if fmt == "latex" and entry.best:
        mean = rf"\textbf{{{mean}}}"
    elif fmt == "md" and entry.best:
        mean = f"**{mean}**"
    return mean + _older(entry, fmt) + _spread(entry, q, fmt)


def _older(entry: Entry, fmt: str) -> str:
    return OLDER_MARK[fmt] if entry.older else ""


def csv_fields(entry: Entry, kind: str, extras: tuple[str, ...]) -> list[str]:
    """The CSV fields of one entry: its mean at two more decimals than printed (or its state in
    words, or a dash), then each of ``extras`` (``std``, ``n``, ``p``), empty where unknown."""
    if entry.mean is None:
        text = DASH["csv"] if entry.state in ("hole", "baseline") else entry.state
        return [text, *([""] * len(extras))]
    q = quantity(entry.metric.removeprefix(DELTA_PREFIX), kind)
    known = {
        "std": None if entry.std is None else f"{entry.std:.{q.decimals + 2}f}",
        "n": str(entry.n) if entry.n else None,
        "p": None if entry.p_value is None else f"{entry.p_value:.4f}",
    }
    return [_number(entry.mean, q.decimals + 2), *(known[x] or "" for x in extras)]


def _spread(entry: Entry, q: Quantity, fmt: str) -> str:
    """`` ± std (n)`` for merged seeds, `` (n/expected)`` while some are pending."""
    count = f"{entry.n}" if entry.done else f"{entry.n}/{entry.expected}"
    count = rf"{{\scriptsize({count})}}" if fmt == "latex" else f"({count})"
    pm = r"$\pm$" if fmt == "latex" else "±"
    has_spread = q.spread and entry.std is not None and entry.std != 0.0
    if has_spread:
        return f" {pm} {_number(entry.std or 0.0, q.decimals)} {count}"
    return "" if entry.done else f" {count}"


def _number(value: float, decimals: int) -> str:
    value = 0.0 if round(value, decimals) == 0 else value  # never print -0.0
    return f"{value:.{decimals}f}"


def _signed(value: float, decimals: int, fmt: str) -> str:
    value = 0.0 if round(value, decimals) == 0 else value
    text = f"{value:+.{decimals}f}"
    return f"${text[0]}${text[1:]}" if fmt == "latex" else text


def _placeholder(state: str, fmt: str) -> str:
    if fmt == "latex":
        return rf"\textit{{{state}}}"
    return f"*{state}*" if fmt == "md" else state
