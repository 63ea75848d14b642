"""Wait for submitted runs, showing one progress line: done, running, queued, failed, ETA.

The runs are followed by their run folders, not by replanning: a run keeps the id it was
submitted with even when the code or the spec changes while it trains.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from harness.errors import RecordError
from harness.executors import job_alive
from harness.journal import read_journal
from harness.plan import PlannedCell
from harness.plan.make import run_status
from harness.records.record import RunRecord, read_run_record
from harness.records.store import record_path

HEARTBEAT_S = 60.0


@dataclass(frozen=True)
class Tally:
    """How many of the followed runs are in each state, and when the last one ended."""

    done: int
    running: int
    queued: int
    failed: int

    @property
    def total(self) -> int:
        """All followed runs."""
        return self.done + self.running + self.queued + self.failed

    @property
    def ended(self) -> int:
        """Runs that are done or failed."""
        return self.done + self.failed


def _read(cell: PlannedCell) -> RunRecord | None:
    """A followed run's record; one that cannot be read counts as not there yet (the plan, run
    after the wait, reports it)."""
    try:
        return read_run_record(record_path(cell.run_dir))
    except RecordError:
        return None


def poll(cells: Sequence[PlannedCell], sweep: Path) -> tuple[Tally, dict[str, str]]:
    """The state of each submitted run (run id -> status), from its record, the journal and
    the executors' job states."""
    journal = read_journal(sweep)
    records = {c.run_id: _read(c) for c in cells}
    jobs: set[str] = set()
    for c in cells:
        found = journal.job_of(c.run_id)
        if found:
            jobs.add(":".join(found))
        record = records[c.run_id]
        if record is not None and record.attempts:
            jobs.add(record.attempts[-1].job)
    alive = job_alive(jobs)
    states = {
        c.run_id: run_status(c.run_id, records[c.run_id], journal, alive)[0] or "queued"
        for c in cells
    }
    # a pruned run ended as its search wanted: it counts with the done ones
    kinds = (("done", "pruned"), ("running",), ("queued",), ("failed",))
    counts = [sum(s in k for s in states.values()) for k in kinds]
    return Tally(*counts), states


def eta(tally: Tally, elapsed: float, last_end: float | None) -> str:
    """Remaining time, from the mean time per ended run so far (``-`` before the first)."""
    left = tally.total - tally.ended
    if left == 0:
        return "ETA 0s"
    if not tally.ended or last_end is None:
        return "ETA -"
    seconds = max(0, int(last_end / tally.ended * tally.total - elapsed))
    if seconds >= 3600:
        return f"ETA {seconds // 3600}h{seconds // 60 % 60:02d}m"
    return f"ETA {seconds // 60}m{seconds % 60:02d}s"


def wait(
    cells: Sequence[PlannedCell],
    sweep: Path,
    label: str,
    poll_s: float = 5.0,
    out: TextIO = sys.stderr,
    on_poll: Callable[[], None] | None = None,
) -> dict[str, str]:
    """Poll until every run in ``cells`` is done or failed; returns run id -> final status.

    On a terminal the line is redrawn in place; otherwise a line is printed when the counts
    change, and once a minute.
    """
    start = time.monotonic()
    tty = out.isatty()
    shown: tuple[Tally, float] | None = None
    last_end: float | None = None
    ended = 0
    while True:
        if on_poll is not None:
            on_poll()
        tally, states = poll(cells, sweep)
        elapsed = time.monotonic() - start
        if tally.ended > ended:
            ended, last_end = tally.ended, elapsed
        line = (
            f"{label}: {tally.done}/{tally.total} done, {tally.running} running, "
            f"{tally.queued} queued, {tally.failed} failed, {eta(tally, elapsed, last_end)}, "
            f"{int(elapsed)}s"
        )
        if tty:
            out.write("\r\033[K" + line)
        elif shown is None or shown[0] != tally or elapsed - shown[1] >= HEARTBEAT_S:
            out.write(line + "\n")
            shown = (tally, elapsed)
        out.flush()
        if tally.ended == tally.total:
            if tty:
                out.write("\n")
            return states
        time.sleep(poll_s)
