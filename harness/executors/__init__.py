"""Executors: carry a plan out through submitit (``debug``, ``local``, ``slurm``).

``make_executor`` builds one by name; ``job_alive`` answers, for any ``executor:job_id``, whether
the job still lives (the plan uses it to tell a running run from a killed one).
"""

from harness.executors.base import Executor, Unit
from harness.executors.factory import EXECUTORS, default_executor, job_alive, make_executor

__all__ = ["EXECUTORS", "Executor", "Unit", "default_executor", "job_alive", "make_executor"]
