"""``HarnessWandbVisBackend``: mmengine's W&B backend, fitted to runs that resume and to a W&B
that dies under them.

Changes to ``mmengine.visualization.WandbVisBackend``:

- ``add_config`` logs the config only; mmengine's also calls ``wandb.run.log_code``, which walks
  the working directory (a virtual environment included) and uploads every ``.py`` file;
- ``close`` lets a later call start W&B again: the job evaluates after training when a resumed
  run had nothing left to train, and that evaluation continues the same W&B run (same id,
  ``resume="allow"``);
- ``add_summary`` writes values into the run's summary (parameter counts, final metrics);
- a W&B that fails never fails the run: SLURM's SIGTERM (scancel, scontrol requeue) kills W&B's
  service process while submitit keeps training, and every later W&B call raises (``Connection
  lost``). The first error is kept in ``lost`` and every later call is skipped; the job notes it
  in the record, which stays the source of truth.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from mmengine.registry import VISBACKENDS
from mmengine.visualization import WandbVisBackend
from mmengine.visualization.vis_backend import force_init_env

logger = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def guarded(method: F) -> F:
    """Skip the call once W&B is lost; a call that raises marks it lost instead of raising."""

    @functools.wraps(method)
    def call(self: HarnessWandbVisBackend, *args: Any, **kwargs: Any) -> Any:
        if self.lost is not None:
            return None
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            self.lost = f"{type(exc).__name__}: {exc}"[:500]
            logger.warning("W&B lost (%s): the run goes on; its record has everything", self.lost)
            return None

    return call  # type: ignore[return-value]


@VISBACKENDS.register_module()
class HarnessWandbVisBackend(WandbVisBackend):
    """W&B backend of the harness (see the module docstring)."""

    lost: str | None = None

    @guarded
    @force_init_env
    def add_config(self, config: Any, **kwargs: Any) -> None:
        self._wandb.config.update(config.to_dict(), allow_val_change=True)

    @guarded
    @force_init_env
    def add_summary(self, values: dict[str, Any]) -> None:
        """Write values into the W&B run's summary."""
        self._wandb.run.summary.update(values)

    @guarded
    def add_image(self, *args: Any, **kwargs: Any) -> None:
        super().add_image(*args, **kwargs)

    @guarded
    def add_scalar(self, *args: Any, **kwargs: Any) -> None:
        super().add_scalar(*args, **kwargs)

    @guarded
    def add_scalars(self, *args: Any, **kwargs: Any) -> None:
        super().add_scalars(*args, **kwargs)

    @guarded
    def _close(self) -> None:
        super().close()

    def close(self) -> None:
        if self.lost is None:
            self._close()
        else:
            _forget_service()
        self._env_initialized = False


def _forget_service() -> None:
    """Let go of a W&B service that died: otherwise W&B's exit hook tries it again when the
    process ends and prints the same ``Connection lost`` traceback."""
    import wandb

    try:
        wandb.teardown()
    except Exception as exc:  # it unregisters the hook first, then fails to reach the service
        logger.debug("W&B teardown after its loss: %s", exc)
