"""The project's mmengine Runner: checks the data first and resumes its own checkpoints.

Configs select it with ``runner_type = "LorsRunner"`` (``configs/_base_/default_runtime.py``);
``build_runner`` is the one way the project (CLI, harness, tests) makes a runner from a config.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from lors.data.check import check_data
from lors.engine.checkpoint import mmengine_checkpoints_allowed

logger = logging.getLogger(__name__)


@RUNNERS.register_module()
class LorsRunner(Runner):
    """mmengine's ``Runner`` with two changes.

    - ``from_cfg`` raises ``lors.engine.DataError`` (one line: the missing path and its config
      key) before building anything when a dataset path is missing.
    - Checkpoints load with the types mmengine saves allowed for torch's ``weights_only``
      unpickler, so ``resume`` and ``load_from`` work on torch >= 2.6 without turning the
      protection off.
    """

    @classmethod
    def from_cfg(cls, cfg: Config) -> Runner:
        check_data(cfg)
        return super().from_cfg(cfg)

    def load_checkpoint(
        self,
        filename: str,
        map_location: str | Callable = "cpu",
        strict: bool = False,
        revise_keys: list | None = None,
    ) -> dict:
        with mmengine_checkpoints_allowed():
            return super().load_checkpoint(
                filename,
                map_location=map_location,
                strict=strict,
                revise_keys=revise_keys if revise_keys is not None else [(r"^module.", "")],
            )


def build_runner(cfg: Config) -> Runner:
    """Build the runner a config asks for (``runner_type``, else mmengine's ``Runner``), after
    checking its data paths.

    Raises:
        lors.engine.DataError: a dataset path of the config is missing.
    """
    check_data(cfg)
    if cfg.get("runner_type"):
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
