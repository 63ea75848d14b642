"""benchmarks/bench_detector_step.py rejects what it cannot run in one line (exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_detector_step.py"


def test_bad_device_is_one_line_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--device", "tpu"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "--device 'tpu'" in proc.stderr
    assert "Traceback" not in proc.stderr
