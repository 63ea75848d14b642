"""Running the detectors with mmengine: the project's Runner, checkpoint loading, data checks.

- ``LorsRunner`` (registered in mmengine's ``RUNNERS``; configs select it by ``runner_type``)
  and ``build_runner(cfg)``;
- ``check_data(cfg)``: raises ``DataError`` naming a missing dataset path and its config key;
- ``load_checkpoint_file(path)``: reads a checkpoint the project wrote, under torch's
  ``weights_only`` loading;
- ``python -m lors.engine.train CONFIG``: train and evaluate one config.
- ``python -m lors.engine.test CONFIG CHECKPOINT``: evaluate a checkpoint with the config's test
  loop (strict about its keys; one JSON summary line).
"""

from lors.data.check import DataError, check_data, find_missing_data
from lors.engine.checkpoint import CheckpointError, load_checkpoint_file
from lors.engine.runner import LorsRunner, build_runner

__all__ = [
    "CheckpointError",
    "DataError",
    "LorsRunner",
    "build_runner",
    "check_data",
    "find_missing_data",
    "load_checkpoint_file",
]
