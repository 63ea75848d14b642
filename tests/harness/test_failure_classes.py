"""Failure classes (``harness.job.failure``): what an attempt raised, classed as ``oom``,
``nan`` or ``error``; a loss that turns NaN stops the run at once as ``nan``, and
``harness.status`` says what each class asks of the user."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from harness.job.failure import NonFiniteLoss, check_losses, classify
from harness.plan import make_plan
from harness.records.store import read_raw
from harness.spec import load_spec
from tests.harness.conftest import REPO, write_spec


def _raised(call) -> BaseException:
    try:
        call()
    except BaseException as exc:  # the test classes whatever it is
        return exc
    raise AssertionError("nothing raised")


def test_what_was_raised_decides_the_class() -> None:
    # torch's own CPU allocator, asked for a petabyte
    assert classify(_raised(lambda: torch.empty(2**50, dtype=torch.uint8))) == "oom"
    assert classify(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")) == "oom"
    assert classify(MemoryError()) == "oom"
    assert classify(NonFiniteLoss("loss is nan at iteration 3")) == "nan"
    assert classify(KeyError("model.hidden")) == "error"
    assert classify(RuntimeError("mat1 and mat2 shapes cannot be multiplied")) == "error"


def test_a_non_finite_loss_is_seen_where_it_appears() -> None:
    check_losses({"loss": torch.tensor(0.5), "acc": float("nan")}, 7)  # not a loss: ignored
    with pytest.raises(NonFiniteLoss, match=r"loss_cls is nan at iteration 7"):
        check_losses({"loss": torch.tensor(0.5), "loss_cls": torch.tensor(float("nan"))}, 7)
    with pytest.raises(NonFiniteLoss, match=r"loss is inf"):
        check_losses({"loss": float("inf")}, 1)


SPEC = """
name: diverge
base: {tiny}
default_profile: smoke
profiles:
  smoke:
    overrides: {{train_cfg.max_iters: 30, optim_wrapper.optimizer.lr: 1.0e+30}}
    resources: {{gpus: 0, cpus: 1, mem_gb: 2, timeout_min: 10}}
axes:
  axis: hidden
  key: model.hidden
  values: [4]
"""


def test_a_diverging_run_fails_as_nan_and_status_says_what_to_do(tmp_path: Path) -> None:
    import subprocess
    import sys

    spec = write_spec(tmp_path, SPEC.format(tiny=REPO / "tests/harness/tiny/tiny_config.py"))
    runs = tmp_path / "runs"
    args = [str(spec), "--runs-dir", str(runs)]
    run = [sys.executable, "-m", "harness.launch", *args, "--executor", "debug", "--wandb",
           "disabled"]  # fmt: skip
    done = subprocess.run(run, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    pc = make_plan(load_spec(spec), "smoke", runs).cells[0]
    rec = read_raw(pc.run_dir / "record.json")
    assert rec is not None and rec["status"] == "failed"
    (attempt,) = rec["attempts"]
    assert (attempt["exit"], attempt["failure"]) == ("failed", "nan"), attempt
    assert "NonFiniteLoss: loss is " in rec["error_tail"], rec["error_tail"]
    iteration = int(rec["error_tail"].rsplit("at iteration ", 1)[1].split()[0])
    assert iteration < 30  # stopped where it diverged, not at the end
    status = subprocess.run([sys.executable, "-m", "harness.status", *args], cwd=REPO,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert "the loss became NaN or infinite: lower the learning rate" in status.stdout, status
