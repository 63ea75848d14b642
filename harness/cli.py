"""What the three CLIs share: a one-line argument parser, the common flags, the error exit."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from lors.errors import LorsError

EXIT_BAD_INPUT = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def add_common(parser: argparse.ArgumentParser, spec_required: bool = True) -> None:
    """The spec argument, ``--profile`` and ``--runs-dir``."""
    parser.add_argument("spec", nargs=None if spec_required else "?", help="sweep spec (YAML)")
    parser.add_argument("--profile", help="profile of the spec (default: its default_profile)")
    parser.add_argument(
        "--runs-dir", help="runs root (default: $LORS_RUNS_DIR, else runs/)", default=None
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")


def run_cli(
    main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None
) -> NoReturn:
    """Run a CLI's main: a ``LorsError`` becomes one line on stderr and exit code 2."""
    try:
        code = main(argv)
    except LorsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        code = EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(
            "interrupted: submitted jobs keep running; see python -m harness.status",
            file=sys.stderr,
        )
        code = 130
    sys.exit(code)


def setup_logging(verbose: bool) -> None:
    """Warnings only, unless ``--verbose``."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
