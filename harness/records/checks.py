"""Typed getters for parsing a record: each says which key breaks the schema, and how."""

from __future__ import annotations

from typing import Any


class Bad(Exception):
    """A schema violation inside one record (turned into a RecordError with the path)."""


def get(obj: dict[str, Any], key: str, kind: type, where: str = "") -> Any:
    """``obj[key]``, which must be there and be a ``kind``."""
    if key not in obj:
        raise Bad(f"missing key '{where}{key}'")
    return check(obj[key], key, kind, where)


def opt(obj: dict[str, Any], key: str, kind: type, where: str = "") -> Any:
    """``obj[key]`` when present and not null (then it must be a ``kind``), else None."""
    value = obj.get(key)
    return None if value is None else check(value, key, kind, where)


def check(value: Any, key: str, kind: type, where: str) -> Any:
    """``value`` when it is a ``kind`` (a bool is not an int)."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Bad(f"key '{where}{key}' must be {kind.__name__}, got {value!r}"[:200])
    return value
