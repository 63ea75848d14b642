"""Trackers mirror a run's record to an experiment tracker (W&B), never the other way round.

``make_tracker(mode)`` gives the tracker of a ``--wandb`` mode; the job adds its mmengine
visualisation backends to the run's config and sends it the parameter counts and final metrics.
``harness.trackers.sync`` uploads offline runs later.
"""

from harness.trackers.base import (
    TRACKER_MODES,
    DisabledTracker,
    Tracker,
    WandbTracker,
    make_tracker,
)

__all__ = ["TRACKER_MODES", "DisabledTracker", "Tracker", "WandbTracker", "make_tracker"]
