"""Tables survive the life of a repository: finished runs stay in the table through cosmetic code
edits, are shown and marked after a change in behaviour (``--strict`` refuses them), and a table
builds from the run folders alone, on a machine without the dataset.

Everything runs for real on a copy of the project: the tiny sweep trains (seconds), the code is
edited in the copy, and the CLIs run in subprocesses against it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SPEC = Path("tests/harness/tiny/tiny.yaml")
DECODER = Path("lors/models/roi_heads/decoder.py")
STATUS = ("--profile", "smoke", "--runs-dir", "runs")
COPIED = ("lors", "harness", "analysis", "configs", "tests", "pyproject.toml")


def _copy_project(dest: Path) -> Path:
    dest.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)
    return dest


def _env(project: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LORS_")}
    env.update(
        PYTHONPATH=str(project),
        LORS_CONFIG_ROOTS=str(project / "tests" / "harness" / "tiny"),
        WANDB_MODE="disabled",
    )
    return env


def _run(project: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=_env(project),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _table(project: Path, cwd: Path, spec: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return _run(
        project,
        cwd,
        str(project / "analysis" / "make_tables.py"),
        str(spec),
        "--profile",
        "smoke",
        "--runs-dir",
        "runs",
        "--out",
        "out",
        "--no-figures",
        "--format",
        "md",
        "--show",
        *extra,
    )


def _numbers(text: str) -> list[str]:
    """The table rows of the Markdown output (first column and numbers)."""
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    return [re.sub(r"\s+", " ", r) for r in rows[1:]]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.mark.slow
def test_tables_survive_cosmetic_edits_and_mark_behaviour_changes(tmp_path: Path) -> None:
    project = _copy_project(tmp_path / "project")
    # the tiny workload reports accuracy, not COCO AP: tabulate what its records do hold
    _edit(project / SPEC, "metrics: [bbox_mAP]", "metrics: [params.total]")
    launch = _run(
        project, project, "-m", "harness.launch", str(SPEC), "--profile", "smoke",
        "--executor", "local", "--runs-dir", "runs", "--wandb", "disabled", "--poll", "1",
    )  # fmt: skip
    assert launch.returncode == 0, launch.stderr
    first = _table(project, project, SPEC)
    assert first.returncode == 0, first.stderr
    rows = _numbers(first.stdout)
    assert len(rows) == 2 and all(re.search(r"\d+\.\d", r) for r in rows), first.stdout
    assert "†" not in first.stdout

    # a docstring, a comment and a line break under lors/: no run id moves, no cell is stale
    decoder = project / DECODER
    _edit(decoder, '"""', '"""Reworded for the test. ')
    decoder.write_text(decoder.read_text() + "\n# a comment added by the test\n")
    cosmetic = _table(project, project, SPEC, "--strict")
    assert cosmetic.returncode == 0, cosmetic.stderr
    assert _numbers(cosmetic.stdout) == rows and "†" not in cosmetic.stdout
    status = _run(project, project, "-m", "harness.status", str(SPEC), *STATUS)
    assert status.returncode == 0 and "stale" not in status.stdout, status.stdout

    # a default in the decoder changes behaviour: the numbers stay, marked, and --strict refuses
    text = decoder.read_text()
    default = re.search(r"(\w+): int = (\d+)", text)
    assert default is not None, "no int default in the decoder to change"
    decoder.write_text(text.replace(default[0], f"{default[1]}: int = {int(default[2]) + 1}", 1))
    changed = _table(project, project, SPEC)
    assert changed.returncode == 0, changed.stderr
    marked = _numbers(changed.stdout)
    assert [r.replace("†", "") for r in marked] == rows and all("†" in r for r in marked)
    assert f"code changed in {DECODER}" in changed.stdout  # the footnote names the file
    strict = _table(project, project, SPEC, "--strict")
    assert strict.returncode == 2
    errors = [line for line in strict.stderr.splitlines() if "from an older run" in line]
    assert {e.split(": ")[3] for e in errors} == {"hidden=4,seed=0", "hidden=8,seed=0"}
    status = _run(project, project, "-m", "harness.status", str(SPEC), *STATUS)
    assert "stale: hidden=4,seed=0 (run" in status.stdout and str(DECODER) in status.stdout

    # the run folders and the spec alone, elsewhere, with no dataset and no project around them
    _edit(decoder, f"{default[1]}: int = {int(default[2]) + 1}", default[0])
    alone = tmp_path / "alone"
    shutil.copytree(project / "runs" / "tiny-test", alone / "runs" / "tiny-test")
    shutil.copy2(project / SPEC, alone / "tiny.yaml")
    copied = _table(project, alone, alone / "tiny.yaml", "--strict")
    assert copied.returncode == 0, copied.stderr
    assert _numbers(copied.stdout) == rows
