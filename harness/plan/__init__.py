"""Plans: the cells of a sweep with run ids and statuses, computed without side effects.

``make_plan(spec, profile, runs_root)`` imports no torch, mmcv or mmdet and writes nothing; the
analysis builds its tables from exactly this (stale and missing cells get placeholders).
"""

from harness.plan.make import Plan, PlannedCell, gc_paused, make_plan, profile_config
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
