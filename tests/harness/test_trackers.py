"""Trackers (one contract over W&B offline and disabled) and the offline sync."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.job.payload import JobPayload
from harness.records.store import read_raw, write_record
from harness.spec.model import Resources
from harness.trackers import make_tracker
from harness.trackers.sync import pending_syncs, sync
from tests.analysis.factory import record_dict

RID = "0123456789ab"


def _payload(tmp_path: Path) -> JobPayload:
    return JobPayload(
        "sw",
        "smoke",
        "a=1",
        {"a": "1"},
        0,
        RID,
        str(tmp_path / "run"),
        str(tmp_path),
        "/c.py",
        {},
        Resources(),
        "none",
        "local",
    )


@pytest.mark.parametrize("mode", ["offline", "disabled"])
def test_tracker_contract(tmp_path: Path, mode: str) -> None:
    tracker = make_tracker(mode)
    block = tracker.record_block(_payload(tmp_path))
    assert block["id"] == RID and block["mode"] == mode and block["synced"] is False
    assert set(block) >= {"id", "mode", "dir", "synced"}
    backends = tracker.vis_backends(_payload(tmp_path))
    if mode == "disabled":
        assert backends == []
        return
    from mmengine.registry import VISBACKENDS

    import harness.trackers.wandb_backend  # noqa: F401

    (backend_cfg,) = backends
    assert (
        backend_cfg["init_kwargs"]["id"] == RID and backend_cfg["init_kwargs"]["resume"] == "allow"
    )
    backend = VISBACKENDS.build(backend_cfg)
    backend.add_scalars({"loss": 1.0})
    backend.add_summary({"params/total": 5})
    backend.close()
    backend.add_scalars({"loss": 0.5})  # a later attempt continues the same W&B run
    backend.close()
    runs = sorted((tmp_path / "run" / "wandb").glob("offline-run-*"))
    # W&B names a second folder of the same second ...-<id>-1: the run id is there either way
    named = re.compile(rf"offline-run-\d{{8}}_\d{{6}}-{RID}(-\d+)?")
    assert runs and all(named.fullmatch(r.name) for r in runs), [r.name for r in runs]


def test_unknown_mode() -> None:
    with pytest.raises(HarnessError, match="valid modes"):
        make_tracker("cloud")


def _run_folder(
    root: Path, status: str, mode: str = "offline", synced: list[str] | None = None
) -> Path:
    run = root / "sw" / "smoke" / f"a=1-{RID}"
    for name in ("offline-run-20250101_000000-" + RID, "offline-run-20250102_000000-" + RID):
        (run / "wandb" / name).mkdir(parents=True, exist_ok=True)
    wandb = {"id": RID, "mode": mode, "dir": "wandb", "synced": False}
    if synced:
        wandb["synced_dirs"] = synced
    raw = record_dict({"a": "1"}, None, status=status, label="a=1", run_id=RID)
    write_record(run / "record.json", {**raw, "wandb": wandb})
    return run / "record.json"


@pytest.mark.parametrize(
    ("status", "mode", "synced", "expected"),
    [
        ("done", "offline", None, 2),
        ("failed", "offline", None, 2),
        ("running", "offline", None, 0),
        ("done", "disabled", None, 0),
        ("done", "offline", ["offline-run-20250101_000000-" + RID], 1),
    ],
)
def test_pending_syncs(
    tmp_path: Path, status: str, mode: str, synced: list[str] | None, expected: int
) -> None:
    record = _run_folder(tmp_path, status, mode, synced)
    items = pending_syncs([record])
    assert sum(len(i.dirs) for i in items) == expected


def test_sync_marks_records_and_keeps_failures_unmarked(tmp_path: Path) -> None:
    record = _run_folder(tmp_path, "done")
    sent: list[list[Path]] = []

    def failing(dirs: list[Path]) -> tuple[bool, str]:
        return False, "network unreachable"

    [(_, ok, msg)] = sync(pending_syncs([record]), upload=failing)
    assert not ok and msg == "network unreachable"
    assert read_raw(record)["wandb"]["synced"] is False

    def uploading(dirs: list[Path]) -> tuple[bool, str]:
        sent.append(dirs)
        return all(d.is_dir() for d in dirs), "ok"

    sync(pending_syncs([record]), upload=uploading)
    wandb = json.loads(record.read_text())["wandb"]
    assert wandb["synced"] is True and len(wandb["synced_dirs"]) == 2 and len(sent[0]) == 2
    assert pending_syncs([record]) == []  # a second sync sends nothing


def _children_named(word: str) -> list[int]:
    """PIDs of this process's descendants whose command line holds ``word``."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            parents[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), cmd)
    mine, found = {os.getpid()}, []
    for _ in range(4):  # W&B's service may sit under a launcher process
        for pid, (ppid, cmd) in parents.items():
            if ppid in mine and pid not in mine:
                mine.add(pid)
                if word.encode() in cmd:
                    found.append(pid)
    return found


def test_a_dead_wandb_service_never_fails_the_run(tmp_path: Path) -> None:
    from mmengine.registry import VISBACKENDS

    import harness.trackers.wandb_backend  # noqa: F401

    (backend_cfg,) = make_tracker("offline").vis_backends(_payload(tmp_path))
    backend = VISBACKENDS.build(backend_cfg)
    backend.add_scalars({"loss": 1.0})
    services = _children_named("wandb")
    assert services, "no W&B service process found"
    for pid in services:  # what SLURM's SIGTERM does to it on scancel or scontrol requeue
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while backend.lost is None and time.monotonic() < deadline:
        backend.add_scalars({"loss": 0.5})  # raises inside W&B once the service is gone
        time.sleep(0.2)
    assert backend.lost is not None, "W&B never noticed its service died"
    backend.add_summary({"params/total": 5})  # skipped, not raised
    backend.close()
