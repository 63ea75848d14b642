"""Every generated table compiles inside a minimal document with a real pdflatex.

Marked ``latex``: it needs Debian's texlive-latex-base and texlive-latex-recommended (``.ci/run``
installs them). Without pdflatex the test fails rather than skips, so a broken CI setup shows.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from analysis.make_tables import main
from analysis.outputs import write_table
from tests.analysis.fixtures import cases_table, grid_table

pytestmark = pytest.mark.latex
REPO = Path(__file__).resolve().parents[2]
DOCUMENT = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage{booktabs}
\begin{document}
\input{%s}
\end{document}
"""


def _generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "tables"
    paths = []
    for table in (grid_table(Path("runs")), cases_table(Path("runs"))):
        paths += write_table(table, out, ("latex",), "sweeps/demo.yaml")
    spec = REPO / "sweeps" / "table1.yaml"
    assert main([str(spec), "--out", str(out), "--format", "latex", "--no-figures"]) == 0
    paths.append(out / "table1.tex")
    return [p for p in paths if p.suffix == ".tex"]


def test_every_generated_table_compiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.fail("no pdflatex: apt-get install texlive-latex-base texlive-latex-recommended")
    tables = _generated(tmp_path, monkeypatch)
    assert len(tables) == 3
    for tex in tables:
        doc = tmp_path / f"doc-{tex.stem.replace('.', '-')}.tex"
        doc.write_text(DOCUMENT % tex.name)
        shutil.copy(tex, tmp_path / tex.name)
        run = subprocess.run(
            [pdflatex, "-interaction=nonstopmode", "-halt-on-error", doc.name],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        log = doc.with_suffix(".log").read_text(errors="replace")
        errors = [line for line in log.splitlines() if line.startswith("!")]
        assert run.returncode == 0 and not errors, f"{tex.name}: {errors or run.stdout[-800:]}"
        assert doc.with_suffix(".pdf").stat().st_size > 1000
