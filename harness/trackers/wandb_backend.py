"""``HarnessWandbVisBackend``: mmengine's W&B backend, fitted to runs that resume.

Three changes to ``mmengine.visualization.WandbVisBackend``:

- ``add_config`` logs the config only; mmengine's also calls ``wandb.run.log_code``, which walks
  the working directory (a virtual environment included) and uploads every ``.py`` file;
- ``close`` lets a later call start W&B again: the job evaluates after training when a resumed
  run had nothing left to train, and that evaluation continues the same W&B run (same id,
  ``resume="allow"``);
- ``add_summary`` writes values into the run's summary (parameter counts, final metrics).
"""

from __future__ import annotations

from typing import Any

from mmengine.registry import VISBACKENDS
from mmengine.visualization import WandbVisBackend
from mmengine.visualization.vis_backend import force_init_env


@VISBACKENDS.register_module()
class HarnessWandbVisBackend(WandbVisBackend):
    """W&B backend of the harness (see the module docstring)."""

    @force_init_env
    def add_config(self, config: Any, **kwargs: Any) -> None:
        self._wandb.config.update(config.to_dict(), allow_val_change=True)

    @force_init_env
    def add_summary(self, values: dict[str, Any]) -> None:
        """Write values into the W&B run's summary."""
        self._wandb.run.summary.update(values)

    def close(self) -> None:
        super().close()
        self._env_initialized = False
