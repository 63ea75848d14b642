"""The job side: what runs on a worker (in process, in a subprocess or in a SLURM task).

``CellJob`` (light: only submitit) is what executors pickle; it runs each payload with
``harness.job.run.run_cell``, which imports torch and mmengine and trains one cell with an
mmengine Runner in its run folder, resuming from the last checkpoint an earlier attempt left.
"""

from harness.job.entry import CellJob
from harness.job.payload import JobPayload

__all__ = ["CellJob", "JobPayload"]
