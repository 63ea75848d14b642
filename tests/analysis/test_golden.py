"""Golden files: the fabricated sweeps render to exactly the committed LaTeX, Markdown, CSV and
provenance bytes, and rendering twice gives the same bytes.

After an intended change of the output, regenerate with
``LORS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/analysis/test_golden.py`` and review the
diff of tests/analysis/golden/.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from analysis.outputs import write_table
from analysis.table import Table
from tests.analysis.fixtures import cases_table, grid_table

GOLDEN = Path(__file__).parent / "golden"
FORMATS = ("latex", "md", "csv")
TABLES: dict[str, Callable[[Path], Table]] = {"grid": grid_table, "cases": cases_table}


def _write(build: Callable[[Path], Table], folder: Path, out: str) -> list[Path]:
    return write_table(build(Path("runs")), folder / out, FORMATS, "sweeps/demo.yaml")


@pytest.mark.parametrize("name", sorted(TABLES))
def test_outputs_match_golden_files(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # record paths in the provenance become relative: runs/...
    written = _write(TABLES[name], tmp_path, "out")
    assert len(written) == 4
    for path in written:
        golden = GOLDEN / path.name
        if os.environ.get("LORS_UPDATE_GOLDEN"):
            GOLDEN.mkdir(exist_ok=True)
            golden.write_bytes(path.read_bytes())
        assert golden.is_file(), f"missing golden file {golden}: see this module's docstring"
        assert path.read_text(encoding="utf-8") == golden.read_text(encoding="utf-8"), path.name


@pytest.mark.parametrize("name", sorted(TABLES))
def test_same_records_give_same_bytes(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = _write(TABLES[name], tmp_path, "a")
    second = _write(TABLES[name], tmp_path, "b")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_smoke_tables_never_pass_for_paper_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    written = {p.suffix: p for p in _write(grid_table, tmp_path, "out")}
    assert all(".smoke." in p.name for p in written.values())
    assert "Smoke profile: smoke-test numbers, not paper results" in written[".tex"].read_text()
    assert "Smoke profile" in written[".md"].read_text()
    assert "Smoke profile" in written[".csv"].read_text().splitlines()[0]
