"""How attempts end in the record: requeued vs killed when the next one starts, an attempt closed
from outside at its last heartbeat, a requeue exit never overwritten, exits validated, and the
verdict on each job state an executor reports (the SLURM tests cause the real faults)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harness.errors import RecordError
from harness.executors.base import JobState
from harness.executors.ended import settle, verdict
from harness.records.attempt import Attempt
from harness.records.closing import close_ended, fail_stranded
from harness.records.record import read_run_record
from harness.records.store import read_raw, write_record
from harness.records.writer import RecordWriter
from tests.harness.test_records import FIELDS


def _raw(path: Path) -> dict:
    return read_raw(path)


@pytest.mark.parametrize(
    ("second_job", "exit_cause"), [("7_0", "requeued"), ("8_0", "killed")], ids=["same", "other"]
)
def test_an_open_attempt_closes_when_the_next_starts(
    tmp_path: Path, second_job: str, exit_cause: str
) -> None:
    path = tmp_path / "record.json"
    first = RecordWriter(path, FIELDS)
    first.start_attempt("slurm", "7_0", "n", 1)
    first.save()  # a heartbeat; then the process dies
    beat = _raw(path)["attempts"][0]["heartbeat"]
    time.sleep(1.1)
    RecordWriter(path, FIELDS).start_attempt("slurm", second_job, "n", 2)
    rec = _raw(path)
    closed, opened = rec["attempts"]
    assert closed["exit"] == exit_cause and closed["end"] == beat  # not the time it was noticed
    assert closed["detected"] > closed["end"] and opened["exit"] is None
    assert rec["status"] == "running" and rec["wall_time_s"] == pytest.approx(0, abs=1.5)


def test_close_ended_closes_only_the_attempt_judged(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    (tmp_path / "iter_10.pth").write_bytes(b"x")
    (tmp_path / "last_checkpoint").write_text(str(tmp_path / "iter_10.pth"))
    w = RecordWriter(path, FIELDS)
    w.start_attempt("slurm", "5", "n", 1)
    start = _raw(path)["attempts"][0]["start"]
    assert not close_ended(path, "2000-01-01T00:00:00+00:00", "killed", "x")  # another attempt
    assert close_ended(path, start, "cancelled", "sacct: CANCELLED by 0")
    rec = _raw(path)
    assert rec["status"] == "failed" and rec["attempts"][0]["exit"] == "cancelled"
    assert rec["checkpoint"] == "iter_10.pth" and rec["error_tail"].startswith("cancelled: sacct")
    assert rec["attempts"][0]["end"] == rec["attempts"][0]["heartbeat"]
    assert not close_ended(path, start, "killed", "again")  # closed already: nothing changes
    assert read_run_record(path).outcome == "cancelled"


def test_an_attempt_closed_from_outside_stays_closed_when_the_job_writes_again(
    tmp_path: Path,
) -> None:
    # a stopped job judged stalled: scancel continues it (SIGCONT) before it dies, and its
    # heartbeat, an evaluation and its own exit must not reopen the launcher's close
    path = tmp_path / "record.json"
    w = RecordWriter(path, FIELDS)
    w.start_attempt("slurm", "5", "n", 1)
    start = _raw(path)["attempts"][0]["start"]
    assert close_ended(path, start, "stalled", "no heartbeat for 600 s while job 5 ran; cancelled")
    assert w.attempt_open  # the job has not looked yet
    w.save()  # its heartbeat
    assert not w.attempt_open and w.status == "failed"
    (tmp_path / "iter_5.pth").write_bytes(b"x")  # the process trains on: a checkpoint it finished
    (tmp_path / "last_checkpoint").write_text(str(tmp_path / "iter_5.pth"))
    w.add_evaluation(None, 10, {"coco/bbox_mAP": 0.25}, "iter_10.pth")
    w.finish("failed", error_tail="SIGTERM")
    rec = _raw(path)
    (attempt,) = rec["attempts"]
    assert attempt["exit"] == "stalled" and rec["status"] == "failed"
    assert attempt["detail"].endswith("; cancelled; the job then ended failed")
    assert rec["error_tail"].startswith("stalled: no heartbeat")
    assert (
        rec["history"][-1]["iter"] == 10 and rec["checkpoint"] == "iter_5.pth"
    )  # not iter_10: unwritten
    # unchanged from outside: a save is a stat, and writes the open attempt as before
    w2 = RecordWriter(tmp_path / "b" / "record.json", FIELDS)
    w2.start_attempt("slurm", "6", "n", 1)
    w2.save()
    assert w2.attempt_open and _raw(w2.path)["attempts"][0]["exit"] is None


def test_a_requeue_keeps_the_run_queued_and_a_stranded_one_fails(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    w = RecordWriter(path, FIELDS)
    w.start_attempt("slurm", "5", "n", 1)
    start = _raw(path)["attempts"][0]["start"]
    assert close_ended(path, start, "requeued", "SLURM requeued job 5: pending again", again=True)
    assert _raw(path)["status"] == "queued"
    assert read_run_record(path).outcome == "queued (requeued)"
    assert fail_stranded(path, start, "job 5 left the queue after its requeued, not requeued")
    assert _raw(path)["status"] == "failed" and _raw(path)["attempts"][0]["exit"] == "requeued"


def test_heartbeats_and_signals_from_other_threads(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    w = RecordWriter(path, FIELDS)
    w.start_attempt("slurm", "5", "n", 1)
    w.note_signal("SIGTERM")
    threads = [threading.Thread(target=w.save) for _ in range(8)]
    for t in threads:
        t.start()
    for i in range(20):
        w.add_evaluation(None, i, {"acc": 0.5}, None)
    for t in threads:
        t.join()
    rec = _raw(path)
    assert [s.split(" at ")[0] for s in rec["attempts"][0]["signals"]] == ["SIGTERM"]
    assert (
        len(rec["history"]) == 20 and rec["attempts"][0]["heartbeat"] >= rec["attempts"][0]["start"]
    )


def test_a_lost_tracker_is_noted_once(tmp_path: Path) -> None:
    w = RecordWriter(tmp_path / "record.json", FIELDS)
    w.start_attempt("slurm", "5", "n", 1)
    w.tracker_lost("ConnectionResetError: Connection lost")
    w.tracker_lost("BrokenPipeError")
    rec = read_run_record(tmp_path / "record.json")
    assert rec.wandb_lost is not None and rec.wandb_lost.startswith("ConnectionResetError")


def test_an_unknown_exit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    w = RecordWriter(path, FIELDS)
    w.start_attempt("slurm", "5", "n", 1)
    raw = _raw(path)
    raw["attempts"][0]["exit"] = "vanished"
    write_record(path, raw)
    with pytest.raises(RecordError, match=r"attempts\[0\]\.exit.*'vanished'.*cancelled"):
        read_run_record(path)


OPEN = Attempt("slurm", "12_0", start="2026-01-01T00:00:00+00:00",
               heartbeat="2026-01-01T00:05:00+00:00")  # fmt: skip
TERMED = Attempt("slurm", "12_0", start=OPEN.start, heartbeat=OPEN.heartbeat,
                 signals=("SIGTERM at 2026-01-01T00:04:58+00:00",))  # fmt: skip
SACCT_END = "2026-01-01T00:05:03+00:00"
# a job that runs and said it was alive a moment ago
BEATING = Attempt("slurm", "12_0", start=OPEN.start,
                  heartbeat=datetime.now(UTC).isoformat(timespec="seconds"))  # fmt: skip
VERDICTS = [  # (attempt, what the executor says, exit, detail starts with, end, the job runs again)
    (BEATING, JobState("running"), None, None, None, None),
    # its job runs, but it has been silent far longer than LORS_STALL_S (600 s by default)
    (OPEN, JobState("running"), "stalled", "no heartbeat for", None, False),
    (OPEN, JobState("unknown"), None, None, None, None),
    (TERMED, JobState("pending"), "requeued", "SLURM requeued job 12_0", None, True),
    (OPEN, JobState("ended", "CANCELLED by 0", SACCT_END, "0:0"), "cancelled",
     "sacct: CANCELLED by 0", SACCT_END, False),
    (OPEN, JobState("ended", "FAILED", SACCT_END, "0:9"), "killed", "sacct: FAILED", SACCT_END,
     False),
    (OPEN, JobState("ended", "TIMEOUT", SACCT_END, "0:0"), "timeout", "sacct: TIMEOUT", SACCT_END,
     False),
    (OPEN, JobState("ended", "NODE_FAIL", SACCT_END, "0:0"), "killed", "sacct: NODE_FAIL",
     SACCT_END, False),
    (OPEN, JobState("ended", "OUT_OF_MEMORY", SACCT_END, "0:125"), "failed",
     "sacct: OUT_OF_MEMORY", SACCT_END, False),
    (TERMED, JobState("ended"), "cancelled", "the job left the queue after SLURM's SIGTERM", None,
     False),
    (OPEN, JobState("ended"), "killed", "the job left the queue without closing", None, False),
    (OPEN, JobState("ending", "RUNNING"), "killed", "the job left the queue", None, False),
]  # fmt: skip


@pytest.mark.parametrize(("attempt", "state", "cause", "detail", "end", "again"), VERDICTS)
def test_verdict(attempt, state, cause, detail, end, again) -> None:
    found = verdict(attempt, state)
    if cause is None:
        assert found is None
        return
    assert found is not None
    assert (found[0], found[2], found[3]) == (cause, end, again) and found[1].startswith(detail)


def test_settle_leaves_records_of_live_jobs_alone(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    w = RecordWriter(path, FIELDS)
    w.start_attempt("debug", "1", "n", 1)  # the debug executor's jobs are never alive
    done = RecordWriter(tmp_path / "b" / "record.json", FIELDS)
    done.start_attempt("local", "1", "n", 1)
    done.finish("completed")
    (settled,) = settle([path, tmp_path / "b" / "record.json"])
    assert settled.cause == "killed" and _raw(path)["attempts"][0]["exit"] == "killed"
    assert _raw(tmp_path / "b" / "record.json")["status"] == "done"
    assert json.dumps(_raw(path))  # still a valid record


CAUSES = [
    # (elapsed s, limit s, environment, cause)
    (100, 240, {"LORS_SIGNAL_DELAY_S": "30"}, "preempted"),  # 4-minute limit, early signal
    (200, 240, {"LORS_SIGNAL_DELAY_S": "30"}, "timeout"),  # the signal 30 s before the limit
    (100, 240, {}, "timeout"),  # no stated delay: 4 minutes assumed, as before
    (300, 3600, {"LORS_SIGNAL_DELAY_S": "120"}, "preempted"),
    (3470, 3600, {"LORS_SIGNAL_DELAY_S": "120"}, "timeout"),
    (5, 240, {"SLURM_JOB_END_TIME": "{now+30}", "LORS_SIGNAL_DELAY_S": "30"}, "timeout"),
    (5, 240, {"SLURM_JOB_END_TIME": "{now+200}", "LORS_SIGNAL_DELAY_S": "30"}, "preempted"),
]


@pytest.mark.parametrize(("elapsed", "limit", "env", "cause"), CAUSES)
def test_a_checkpoint_signal_is_a_timeout_only_near_the_limit(
    elapsed: float, limit: float, env: dict[str, str], cause: str
) -> None:
    """A preemption of a job with a short limit (timeout_min <= 5) is a preemption, not a
    timeout; SLURM's projected end decides where the job has one."""
    from harness.job.entry import interrupt_cause

    now = int(time.time())
    env = {k: v.replace("{now+30}", str(now + 30)).replace("{now+200}", str(now + 200))
           for k, v in env.items()}  # fmt: skip
    assert interrupt_cause(elapsed, limit, env) == cause
