"""The environment a submitted job inherits: the launcher's, less its own cluster job's.

A launcher started inside a SLURM job (an ``salloc`` shell, a controller job) carries that job's
``SLURM_*``, ``SUBMITIT_*`` and torch.distributed variables. A job submitted from it inherits
them: SLURM sets its own variables again at start, but a ``MASTER_PORT`` stays, so every
multi-process job would meet on one port instead of the one submitit derives from its job id,
and a local lane would take the outer job's id for its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

# As submitit.helpers.clean_env, but SBATCH_* stays: those are the user's own input to sbatch
# (SBATCH_ACCOUNT, SBATCH_PARTITION), never set by a running job.
_JOB_PREFIXES = ("SLURM_", "SLURMD_", "SRUN_", "SUBMITIT_")
_DISTRIBUTED = (
    "MASTER_ADDR",
    "MASTER_PORT",
    "RANK",
    "WORLD_SIZE",
    "LOCAL_RANK",
    "LOCAL_WORLD_SIZE",
)


def inherited(name: str) -> bool:
    """Whether a launcher's variable ``name`` may pass to the jobs it submits."""
    return not name.startswith(_JOB_PREFIXES) and name not in _DISTRIBUTED


@contextmanager
def job_environment(extra: Mapping[str, str]) -> Iterator[None]:
    """Inside: ``os.environ`` without the launcher's cluster-job variables and with ``extra``
    set (what a job submitted inside inherits); afterwards exactly as it was."""
    hidden = {name: os.environ.pop(name) for name in list(os.environ) if not inherited(name)}
    previous = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        os.environ.update(hidden)
