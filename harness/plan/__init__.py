"""Plans: the cells of a sweep with run ids and statuses, computed without side effects.

``make_plan(spec, profile, runs_root)`` imports no torch, mmcv or mmdet and writes nothing; the
launch submits from it and ``harness.status`` shows it. The analysis does not plan: it matches
records to cells itself (``harness.records.match``).
"""

from harness.gcpause import gc_paused
from harness.identity import profile_config
from harness.plan.make import Plan, PlannedCell, make_plan
from harness.plan.render import format_table, render_plan

__all__ = [
    "Plan",
    "PlannedCell",
    "format_table",
    "gc_paused",
    "make_plan",
    "profile_config",
    "render_plan",
]
