"""`make setup` fails with one clear line, non-zero, and leaves no half-built venv behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _copy_project(tmp: Path) -> Path:
    root = tmp / "proj"
    (root / "tools").mkdir(parents=True)
    shutil.copy(REPO / "tools" / "bootstrap.py", root / "tools" / "bootstrap.py")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def _run(root: Path, prelude: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = root / "tools" / "bootstrap.py"
    code = (
        f"import runpy, sys\n{prelude}\nsys.argv = [{str(script)!r}]\n"
        f"runpy.run_path({str(script)!r}, run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )


def test_python_too_old_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    proc = _run(root, "sys.version_info = (3, 10, 12, 'final', 0)", dict(os.environ))
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "3.10.12" in lines[0] and ">= 3.11" in lines[0]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (root / ".venv").exists()


@pytest.mark.slow
def test_no_package_index_is_one_line_and_removes_the_venv(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    env = dict(os.environ)
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_INDEX_URL="http://127.0.0.1:9/simple",
        PIP_FIND_LINKS="",
        PIP_EXTRA_INDEX_URL="",
        PIP_RETRIES="0",
        PIP_TIMEOUT="2",
        PIP_NO_CACHE_DIR="1",
        LORS_WHEEL_CACHE=str(tmp_path / "wheels"),
    )
    proc = _run(root, "", env)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "package index" in lines[0] and "no network" in lines[0]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (root / ".venv").exists()
