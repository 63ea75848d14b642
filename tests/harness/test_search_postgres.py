"""The tiny study on a real PostgreSQL (Optuna's RDB storage), and two controllers on one study.

Needs the server of ``tools/postgres.sh up`` (``.ci/run`` starts it); ``LORS_POSTGRES_URL``
names the database (default: what ``tools/postgres.sh url`` prints).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import optuna
import pytest

from tests.harness.conftest import REPO

pytestmark = pytest.mark.postgres
URL = os.environ.get("LORS_POSTGRES_URL", "postgresql://postgres@127.0.0.1:55432/lors_test")
TINY = REPO / "tests" / "harness" / "tiny" / "search.yaml"


def _spec(tmp_path: Path, delay: float = 0.0) -> tuple[Path, str]:
    name = f"tiny-pg-{uuid.uuid4().hex[:8]}"  # a study of its own in a database that persists
    text = TINY.read_text().replace("name: tiny-search", f"name: {name}")
    text = text.replace("in_flight: 2", f"in_flight: 2\n  storage: {URL}")
    if delay:
        text = text.replace(
            "timeout_min: 10}", f"timeout_min: 10}}\n    overrides: {{model.step_delay_s: {delay}}}"
        )
    path = tmp_path / "search.yaml"
    path.write_text(text)
    return path, name


def _cmd(spec: Path, runs: Path) -> list[str]:
    return [
        sys.executable, "-m", "harness.search", str(spec), "--runs-dir", str(runs),
        "--executor", "local", "--poll", "0.3", "--wandb", "disabled",
    ]  # fmt: skip


def _storage() -> optuna.storages.RDBStorage:
    return optuna.storages.RDBStorage(URL.replace("postgresql://", "postgresql+psycopg2://"))


def test_study_on_postgres_and_a_second_controller_refuses(tmp_path: Path) -> None:
    try:
        _storage()
    except Exception as exc:
        pytest.fail(f"no PostgreSQL at {URL} ({exc}); start one: tools/postgres.sh up")
    spec, name = _spec(tmp_path, delay=0.1)
    runs = tmp_path / "runs"
    first = subprocess.Popen(
        _cmd(spec, runs), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO
    )
    assert first.stdout is not None
    seen = []
    for line in first.stdout:  # the first holds the study once it has submitted a run
        seen.append(line)
        if ": submitted run" in line:
            break
    assert any(": submitted run" in line for line in seen), "".join(seen)
    second = subprocess.run(_cmd(spec, runs), capture_output=True, text=True, cwd=REPO, check=False)
    assert second.returncode == 2, second.stdout + second.stderr
    assert "another search controller" in second.stderr and len(second.stderr.splitlines()) == 1
    rest, _ = first.communicate(timeout=600)
    out = "".join(seen) + rest
    assert first.returncode == 0, out
    assert f"study {name}/smoke: 6 complete, 0 pruned, 0 failed (0 infeasible) of 6 trials" in out
    study = optuna.load_study(study_name=f"{name}/smoke", storage=_storage())
    assert len(study.trials) == 6
    configs = {t.params["hidden"] for t in study.trials}
    assert len(list(runs.rglob("record.json"))) == len(configs)
