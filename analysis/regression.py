"""Regression check: which printed numbers moved since the tables were last written, and why.

Tables are compared through their provenance sidecars, which hold the unrounded means and, per
number, the runs and git commits behind it. A number moved when its mean changed by more than
the tolerance (in printed units: AP points, millions of parameters) or, without a tolerance,
when its printed text changed; a cell that gained or lost its number counts too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    """One table cell whose number moved.

    Attributes:
        where: ``row | column`` of the cell.
        before: the text printed before ("" when the cell is new).
        after: the text printed now ("" when the cell is gone).
        delta: the change of the mean in printed units, or None when either side has no number.
        runs_gone: run ids behind the old number only.
        runs_new: run ids behind the new number only.
        commits_before: git commits behind the old number.
        commits_after: git commits behind the new number.
    """

    where: str
    before: str
    after: str
    delta: float | None
    runs_gone: tuple[str, ...]
    runs_new: tuple[str, ...]
    commits_before: tuple[str, ...]
    commits_after: tuple[str, ...]

    def line(self, sweep: str) -> str:
        """One line: ``table6 [2 | 16/bbox_mAP]: 42.9 -> 43.4 (+0.50); runs ...; commits ...``."""
        moved = f" ({self.delta:+.2f})" if self.delta is not None else ""
        text = f"{sweep} [{self.where}]: {self.before or '(none)'} -> {self.after or '(none)'}"
        parts = [text + moved]
        if self.runs_gone or self.runs_new:
            runs = [f"-{r}" for r in self.runs_gone] + [f"+{r}" for r in self.runs_new]
            parts.append("runs " + " ".join(runs))
        if self.commits_before != self.commits_after:
            before = ",".join(c[:10] for c in self.commits_before) or "-"
            after = ",".join(c[:10] for c in self.commits_after) or "-"
            parts.append(f"commits {before} -> {after}")
        return "; ".join(parts)


def compare(
    old: Mapping[str, Any], new: Mapping[str, Any], tolerance: float | None = None
) -> list[Change]:
    """Every cell of ``new`` whose number differs from ``old`` (both provenance sidecars).

    Args:
        old: the sidecar written earlier.
        new: the sidecar of the table built now.
        tolerance: largest change of a mean (printed units) that does not count; None compares
            the printed text, so any change a reader of the table would see counts.

    Returns:
        The changes in table order (new cells first in their place, removed cells at the end).
    """
    before = {_key(c): c for c in old["cells"]}
    after = {_key(c): c for c in new["cells"]}
    runs = (old.get("runs", {}), new.get("runs", {}))
    changes = []
    for key, cell in after.items():
        prev = before.get(key)
        if prev is None:
            if cell["mean"] is not None:
                changes.append(_change(key, None, cell, runs))
        elif _moved(prev, cell, tolerance):
            changes.append(_change(key, prev, cell, runs))
    changes += [_change(key, c, None, runs) for key, c in before.items() if key not in after]
    return changes


def _key(cell: Mapping[str, Any]) -> tuple[str, str | None, str]:
    return cell["row"], cell["group"], cell["metric"]


def _moved(old: Mapping[str, Any], new: Mapping[str, Any], tolerance: float | None) -> bool:
    if (old["mean"] is None) != (new["mean"] is None):
        return True
    if old["mean"] is None:
        return False  # a placeholder changing state is not a number moving
    if tolerance is None:
        return bool(old["text"] != new["text"])
    return bool(abs(new["mean"] - old["mean"]) > tolerance)


def _change(
    key: tuple[str, str | None, str],
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    runs: tuple[Mapping[str, Any], Mapping[str, Any]],
) -> Change:
    row, group, metric = key
    where = f"{row} | {metric}" if group is None else f"{row} | {group}/{metric}"
    old_runs = _runs(old, runs[0])
    new_runs = _runs(new, runs[1])
    delta = None
    if old is not None and new is not None and None not in (old["mean"], new["mean"]):
        delta = new["mean"] - old["mean"]
    return Change(
        where=where,
        before=old["text"] if old else "",
        after=new["text"] if new else "",
        delta=delta,
        runs_gone=tuple(r for r in old_runs if r not in new_runs),
        runs_new=tuple(r for r in new_runs if r not in old_runs),
        commits_before=_commits(old, runs[0]),
        commits_after=_commits(new, runs[1]),
    )


def _members(cell: Mapping[str, Any] | None, runs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The run details of every sweep cell behind a printed cell."""
    if cell is None:
        return []
    return [runs.get(m["label"], {}) for m in cell["runs"]]


def _runs(cell: Mapping[str, Any] | None, runs: Mapping[str, Any]) -> list[str]:
    return [r["run_id"] for r in _members(cell, runs) if r.get("run_id")]


def _commits(cell: Mapping[str, Any] | None, runs: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(sorted({r["commit"] for r in _members(cell, runs) if r.get("commit")}))
