"""The bytes of ``record.json`` files: fast JSON reads, atomic writes, a sweep folder scan.

Only :mod:`harness.records.writer` calls :func:`write_record`.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import threading
import zlib
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from harness.errors import RecordError
from harness.layout import parse_run_folder
from harness.records.schema import RECORD_NAME

# The record locks of a sweep folder's runs: a fixed set of files, each run hashed to one. A
# lock file per run folder would cost each run one more file created, which on this kind of
# disk (and on a parallel file system's metadata server) costs more than the rest of the write.
LOCKS_DIR = ".record-locks"
LOCK_SLOTS = 64


def now_iso() -> str:
    """The current time, ISO-8601 in UTC."""
    return datetime.now(UTC).isoformat(timespec="seconds")


# ASCII digits -> "0", every other byte -> " ": a run of 19 digits shows as _LONG_NUMBER.
_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_NUMBER = b"0" * 19


def loads(data: bytes) -> Any:
    """Parse JSON bytes exactly as ``json.loads`` parses their UTF-8 text, at orjson's speed.

    orjson rejects some text the stdlib accepts (NaN, Infinity, 1e400, lone surrogates) and reads
    integers beyond 64 bits as floats. Bytes orjson rejects, or that hold a run of 19 digits (the
    only way to write such an integer), go to the stdlib instead, decoded as ``Path.read_text``
    decodes them; so what parses, to which values, and every error message stay the stdlib's.

    Raises:
        json.JSONDecodeError: the text is not JSON (the stdlib's message, line and column).
        UnicodeDecodeError: the bytes are not UTF-8.
    """
    if _LONG_NUMBER not in data.translate(_DIGITS):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    return json.loads(text)


def read_raw(path: Path) -> Any:
    """The JSON value in a record file, or None when there is no file (the writer continues what
    it finds; everyone else reads :class:`~harness.records.record.RunRecord`).

    Raises:
        RecordError: the file cannot be read, is not UTF-8 or is not JSON; the message starts
            with the path.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RecordError(f"{path}: cannot read the record ({exc})") from exc
    try:
        return loads(data)
    except UnicodeDecodeError as exc:
        raise RecordError(f"{path}: not valid JSON: not UTF-8 text ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise RecordError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc


def write_record(path: Path, record: Mapping[str, Any]) -> None:
    """Write a record atomically: a temp file in the same folder, fsync, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = dumps({**record, "updated": now_iso()})
    # one temp name per writing thread: a job's heartbeat and its main thread write in turn
    tmp = path.parent / f".record-{os.getpid()}-{threading.get_ident()}.tmp"
    try:
        with open(tmp, "wb") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dumps(record: Mapping[str, Any]) -> bytes:
    """A record as indented JSON bytes (ending in a newline); NaN and infinities as null.

    orjson writes it (a record is written at every evaluation and heartbeat); what orjson
    refuses (an integer beyond 64 bits) goes through the stdlib with the same rules.
    """
    try:
        return orjson.dumps(record, default=_plain, option=_ORJSON) + b"\n"
    except (orjson.JSONEncodeError, TypeError):
        text = json.dumps(_finite(dict(record)), indent=2, default=_plain, allow_nan=False)
        return text.encode() + b"\n"


_ORJSON = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS


def _plain(value: Any) -> Any:
    """What JSON has no type for: a mapping as a dict (checked for NaN as any), else its text."""
    return _finite(dict(value)) if isinstance(value, Mapping) else str(value)


def _finite(value: Any) -> Any:
    """NaN and infinities become null: JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def scan_sweep(sweep: Path, slugs: Collection[str] | None = None) -> dict[str, dict[str, Path]]:
    """Label slug -> {run id -> run folder} of the run folders under a sweep folder (only those
    of ``slugs`` when given: a search plans two cells in a folder of thousands of runs)."""
    out: dict[str, dict[str, Path]] = {}
    try:
        names = os.listdir(sweep)
    except FileNotFoundError:
        return out
    if slugs is not None:
        # a C-level prefix test first: the folder of a search holds a run per trial
        prefixes = tuple(f"{slug}-" for slug in slugs)
        names = [n for n in names if n.startswith(prefixes)] if prefixes else []
    for name in names:
        parsed = parse_run_folder(name)
        if parsed is None or (slugs is not None and parsed[0] not in slugs):
            continue
        path = sweep / name
        if path.is_dir():
            out.setdefault(parsed[0], {})[parsed[1]] = path
    return out


def record_path(run_dir: Path) -> Path:
    """The record file of a run folder."""
    return run_dir / RECORD_NAME


def lock_file(run_dir: Path) -> Path:
    """The file whose ``flock`` is the run folder's record lock: one of the sweep folder's
    :data:`LOCK_SLOTS`, chosen by a hash of the run folder's name that every process and node
    computes alike (``crc32``; Python's ``hash`` differs per process)."""
    slot = zlib.crc32(run_dir.name.encode()) % LOCK_SLOTS
    return run_dir.parent / LOCKS_DIR / f"{slot:02d}"


@contextmanager
def record_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run folder's record lock: a job opening an attempt and a launcher closing a dead
    one read, change and write the same record, and neither may lose the other's change. A
    ``flock``: the kernel drops it when its holder dies; NFSv4 honours it across nodes. Runs that
    share a slot wait for each other's write, never longer: no caller holds two runs' locks."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = lock_file(run_dir)
    try:
        fh = path.open("a")
    except FileNotFoundError:
        path.parent.mkdir(exist_ok=True)
        fh = path.open("a")
    with fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def last_checkpoint(run_dir: Path) -> str | None:
    """The last checkpoint mmengine saved in a run folder (its ``last_checkpoint`` marker),
    relative to the folder, or None."""
    marker = run_dir / "last_checkpoint"
    try:
        path = Path(marker.read_text().strip())
    except OSError:
        return None
    try:
        return str(path.resolve().relative_to(run_dir.resolve()))
    except ValueError:
        return str(path)


def file_signature(path: Path) -> tuple[int, int, int] | None:
    """What tells one write of the file from the next (each is a new inode: ``os.replace``)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)
