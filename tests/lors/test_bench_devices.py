"""The speed benchmarks reject a device they cannot run on in one line (exit 2), before
building anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.parametrize("script", ["bench_lors_mixing.py", "bench_detector_step.py"])
def test_bad_device_is_one_line_exit_2(script: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--device", "tpu"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "--device 'tpu'" in proc.stderr
    assert "Traceback" not in proc.stderr
