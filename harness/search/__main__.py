"""``python -m harness.search``: see :mod:`harness.search.cli`."""

from harness.cli import run_cli
from harness.search.cli import main

run_cli(main)
