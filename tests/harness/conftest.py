"""Fixtures of the harness tests: the tiny workload's spec, copied specs, a pinned code hash,
and the helpers that launch and wait."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TINY_DIR = REPO / "tests" / "harness" / "tiny"
TINY_CONFIG = TINY_DIR / "tiny_config.py"


@pytest.fixture(autouse=True)
def _pinned_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """Other work on lors/ while a test runs must not change its run ids; jobs in subprocesses
    must import the tiny workload (tests.harness.tiny) from this checkout, whose configs are a
    trusted config root."""
    monkeypatch.setenv("LORS_CODE_HASH", "test-code")
    # the tiny workload's configs live under tests/, outside configs/: trust them explicitly
    monkeypatch.setenv("LORS_CONFIG_ROOTS", str(TINY_DIR))
    path = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", f"{REPO}{os.pathsep}{path}" if path else str(REPO))
    monkeypatch.delenv("LORS_RUNS_DIR", raising=False)
    monkeypatch.delenv("LORS_FAULT", raising=False)


def write_spec(folder: Path, body: str, name: str = "spec.yaml") -> Path:
    """Write a spec file; ``{tiny}`` in the body becomes the tiny config's path."""
    path = folder / name
    path.write_text(body.replace("{tiny}", str(TINY_CONFIG)))
    return path


TINY_AXIS = "axes:\n  axis: hidden\n  key: model.hidden\n  values: [4, 8]\n"
"""The axes block of TINY_SPEC, for tests that replace it."""

TINY_SPEC = """
name: tiny-test
base: {tiny}
default_profile: smoke
profiles:
  smoke:
    resources: {gpus: 0, cpus: 1, mem_gb: 2, timeout_min: 10}
  paper:
    overrides: {train_cfg.max_iters: 40}
    resources: {gpus: 1, cpus: 4, mem_gb: 16, timeout_min: 60}
axes:
  axis: hidden
  key: model.hidden
  values: [4, 8]
"""


@pytest.fixture
def tiny_spec(tmp_path: Path) -> Path:
    """A two-cell spec of the tiny workload, in the test's tmp dir."""
    return write_spec(tmp_path, TINY_SPEC)


ONE_CELL_SPEC = """
name: one
base: {tiny}
default_profile: smoke
profiles:
  smoke:
    overrides: {model.step_delay_s: DELAY, train_cfg.max_iters: ITERS}
    resources: {gpus: 0, cpus: 1, mem_gb: 2, timeout_min: 10}
axes:
  axis: hidden
  key: model.hidden
  values: [4]
"""


def one_cell_spec(folder: Path, delay: float = 0.0, iters: int = 20) -> Path:
    """A one-cell spec of the tiny workload; ``delay`` seconds per training step."""
    text = ONE_CELL_SPEC.replace("DELAY", str(delay)).replace("ITERS", str(iters))
    return write_spec(folder, text, name="one.yaml")


def wait_for(
    predicate: Callable[[], Any], timeout: float = 180.0, what: str = "", step: float = 0.2
) -> Any:
    """Poll ``predicate`` every ``step`` seconds until it returns something true, and return
    that; fail the test after ``timeout`` seconds, naming ``what`` it waited for."""
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(step)
    return found


def launch(*args: str, env: dict[str, str] | None = None, timeout: float = 300, cwd: Path = REPO):
    """``python -m harness.launch ARGS`` in a subprocess; returns the CompletedProcess."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "harness.launch", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def make_payload(resources: object, rid: str = "0123456789ab", executor: str = "slurm") -> object:
    """A job payload with placeholder paths, for tests of how executors group and script jobs."""
    from harness.job.payload import JobPayload

    return JobPayload(
        "s",
        "paper",
        "a=1",
        {"a": "1"},
        None,
        rid,
        "/r",
        "/",
        "/c.py",
        {},
        resources,
        "none",
        executor,
    )


def status_attempts(spec: Path, runs: Path, cwd: Path = REPO) -> list[tuple[str, str]]:
    """``harness.status``'s account of each attempt of the sweep's runs, as (how it ended, the
    whole line): ``1. slurm:12 on vm (2 processes): START -> END: killed (how it is known)``."""
    import re
    import subprocess
    import sys

    shown = subprocess.run(
        [sys.executable, "-m", "harness.status", str(spec), "--runs-dir", str(runs)],
        capture_output=True, text=True, cwd=cwd, timeout=120, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stdout + shown.stderr
    found = []
    for line in shown.stdout.splitlines():
        said = re.match(
            r"\s+\d+\. \S+ on .*?: [\d-]+ [\d:]+ -> (?:now|[\d-]+ [\d:]+)"
            r"(?:, resumed at iteration \d+)?: (\w+)",
            line,
        )
        if said:
            found.append((said[1], line.strip()))
    return found
