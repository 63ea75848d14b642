"""The rules of the peer watch (``harness.job.peers``), on beat files written by hand: what an
earlier attempt left is never news, a peer that raised or went silent is a fault, one that left
on a requeue signal is not, and rank 0 finishing releases a rank that still waits."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from harness.job.peers import PeerWatch


def _watch(tmp_path: Path, rank: int = 0) -> PeerWatch:
    # the thread is not started: a fault found by it would end this process
    watch = PeerWatch(tmp_path, rank, 2, "7", None)
    watch.folder.mkdir(exist_ok=True)
    return watch


def _beat(tmp_path: Path, rank: int, state: str, pid: int = 1, count: int = 1) -> None:
    node = os.uname().nodename
    (tmp_path / ".ranks" / f"rank-{rank}").write_text(f"7 {pid} {node} {count} {state}\n")


def _begin(watch: PeerWatch, began: float | None = None) -> None:
    t = time.monotonic() if began is None else began
    watch._seen = {r: (watch._read(r), t, False) for r in watch._peers()}


def test_a_file_an_earlier_attempt_left_is_not_news(tmp_path: Path) -> None:
    watch = _watch(tmp_path)
    _beat(tmp_path, 1, "failed", pid=2**22 + 1)  # an old attempt's rank 1, long gone
    _begin(watch)
    assert watch._fault() is None  # not seen to change: neither its state nor its pid counts
    _beat(tmp_path, 1, "running", pid=os.getpid(), count=1)  # this attempt's rank 1 begins
    assert watch._fault() is None
    _beat(tmp_path, 1, "failed", pid=os.getpid(), count=2)
    assert watch._fault() == (1, "failed", "rank 1 of job 7 raised; see its log")


def test_a_dead_peer_on_this_node_is_killed_at_once(tmp_path: Path) -> None:
    watch = _watch(tmp_path)
    _begin(watch)
    _beat(tmp_path, 1, "running", pid=2**22 + 1)  # a pid no process has
    rank, cause, detail = watch._fault() or (None, None, "")
    assert (rank, cause) == (1, "killed") and "its process 4194305 is gone" in detail


@pytest.mark.parametrize(
    ("state", "rank", "fault"),
    [("running", 0, "killed"), ("signalled", 0, None), ("done", 1, "left"), ("done", 0, None)],
)
def test_silence(tmp_path: Path, state: str, rank: int, fault: str | None) -> None:
    watch = _watch(tmp_path, rank)
    peer = 1 - rank
    _begin(watch)
    _beat(tmp_path, peer, state, pid=os.getpid())
    watch._fault()  # seen to change now
    r, (beat, _, fresh) = peer, watch._seen[peer]
    watch._seen[r] = (beat, time.monotonic() - 60, fresh)  # and silent for a minute since
    if state == "running":  # alive but silent is stalled; make its node another one
        _beat(tmp_path, peer, state, pid=os.getpid())
        (tmp_path / ".ranks" / f"rank-{peer}").write_text(f"7 {os.getpid()} far 1 running\n")
        watch._seen[r] = (watch._read(peer), time.monotonic() - 60, True)
    found = watch._fault()
    assert (found[1] if found else None) == fault, found
    if fault == "killed":
        assert "silent for 60 s (on far)" in found[2]
