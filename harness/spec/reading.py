"""Reading helpers of the spec loader: safe YAML, a problem collector and typed field checks.

The loader never stops at the first problem: every check appends to :class:`Problems` and
returns a usable placeholder, so one run over a spec reports everything wrong with it.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from harness.spec.model import RESOURCE_KEYS

KEY_SEGMENT = re.compile(r"^[A-Za-z0-9_]+$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SWEEP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
LABEL_FORBIDDEN = re.compile(r"[,=/\\\x00-\x1f\x7f]")


class Problems:
    """Collects ``(spec key, message)`` pairs while a spec is read."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, key: str, message: str) -> None:
        """Record one problem at a dotted spec location."""
        if (key, message) not in self.items:
            self.items.append((key, message))

    def __bool__(self) -> bool:
        return bool(self.items)


#: a spec is a page of YAML: anything larger is refused unread
MAX_SPEC_BYTES = 1 << 20
#: deeper nesting than any spec needs (PyYAML's composer recurses once per level)
MAX_DEPTH = 64
#: YAML nodes after aliases are expanded ("billion laughs" stays a few bytes until expanded)
MAX_NODES = 200_000


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, but a key repeated in one mapping is an error, not a silent win,
    and a key must be a scalar."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            kind = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"a mapping key must be a plain value, found a {kind}",
                key_node.start_mark,
            )
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)
_EVENT_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when present


def _line(event: yaml.Event) -> int:
    mark = event.start_mark
    return mark.line + 1 if mark is not None else 0


def _shape_problem(text: str) -> str | None:
    """Why the YAML text is too deep, too big once its aliases are expanded, or more than one
    document; None when it is fine. Reads parser events only: nothing is built, nothing recurses.
    """
    sizes: dict[str, int] = {}  # anchor -> nodes of its value, aliases expanded
    stack: list[list[Any]] = []  # open collections: [nodes so far, anchor, start line]
    total = documents = 0
    for event in yaml.parse(text, Loader=_EVENT_LOADER):
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                line = _line(event)
                return f"a second YAML document starts at line {line}; a spec is one document"
            continue
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append([1, event.anchor])
            if len(stack) > MAX_DEPTH:
                line = _line(event)
                return f"nesting deeper than {MAX_DEPTH} levels (line {line})"
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            count, anchor = stack.pop()
        elif isinstance(event, yaml.ScalarEvent):
            count, anchor = 1, event.anchor
        elif isinstance(event, yaml.AliasEvent):
            count, anchor = sizes.get(event.anchor or "", 1), None
        else:
            continue
        if anchor:
            sizes[anchor] = count
        if stack:
            stack[-1][0] += count
        total += count
        if max(total, stack[-1][0] if stack else 0) > MAX_NODES:
            line = _line(event)
            return (
                f"more than {MAX_NODES:,} values once its aliases are expanded (near line {line}); "
                "a spec that large is refused"
            )
    return None


def read_yaml(path: Path, problems: Problems) -> Any:
    """The YAML document of ``path`` (safe load: no tags, nothing executed), or None.

    Bounded: at most :data:`MAX_SPEC_BYTES` are read, the text must be UTF-8, one document, at
    most :data:`MAX_DEPTH` levels deep and :data:`MAX_NODES` values with aliases expanded.
    """
    if not path.is_file():
        problems.add("", f"no such spec file {str(path)!r}")
        return None
    size = path.stat().st_size
    if size == 0:
        problems.add("", "the spec file is empty")
        return None
    with path.open("rb") as stream:
        data = stream.read(MAX_SPEC_BYTES + 1)
    if len(data) > MAX_SPEC_BYTES:
        problems.add(
            "", f"{max(size, len(data)):,} bytes; a spec may hold at most {MAX_SPEC_BYTES:,}"
        )
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.add(
            "", f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line})"
        )
        return None
    try:
        why = _shape_problem(text)
        if why:
            problems.add("", why)
            return None
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.add("", f"not valid YAML{where}: {what}")
        return None


def check_keys(
    raw: Any,
    where: str,
    valid: Sequence[str],
    problems: Problems,
    required: Sequence[str] = (),
) -> bool:
    """Whether ``raw`` is a mapping; reports unknown and missing keys (listing the valid ones)."""
    if not isinstance(raw, Mapping):
        problems.add(where, f"must be a mapping with keys {list(valid)}, got {_show(raw)}")
        return False
    for key in raw:
        if key not in valid:
            close = difflib.get_close_matches(str(key), list(valid), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.add(
                f"{where}.{key}" if where else str(key),
                f"unknown key {key!r}{hint}; valid keys: {list(valid)}",
            )
    for key in required:
        if key not in raw:
            problems.add(f"{where}.{key}" if where else key, "required key is missing")
    return True


def _show(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}"


def check_str(
    raw: Any, where: str, problems: Problems, pattern: re.Pattern[str] | None = None
) -> str:
    """A string field (optionally matching ``pattern``); ``""`` after a problem."""
    if not isinstance(raw, str) or not raw:
        problems.add(where, f"must be a non-empty string, got {_show(raw)}")
        return ""
    if pattern is not None and not pattern.fullmatch(raw):
        problems.add(where, f"{raw!r} does not match {pattern.pattern}")
        return ""
    return raw


def check_int(
    raw: Any, where: str, problems: Problems, minimum: int, below: int | None = None
) -> int:
    """An integer field >= ``minimum`` (and < ``below`` when given; a bool is not an int)."""
    bad = not isinstance(raw, int) or isinstance(raw, bool) or raw < minimum
    if bad or (below is not None and raw >= below):
        bound = f" and < {below:,}" if below is not None else ""
        problems.add(where, f"must be an int >= {minimum}{bound}, got {_show(raw)}")
        return minimum
    return raw


def check_dotted_key(key: Any, where: str, problems: Problems) -> bool:
    """Whether ``key`` is a dotted config key such as ``model.roi_head.num_stages``."""
    if not isinstance(key, str) or not all(KEY_SEGMENT.fullmatch(s) for s in key.split(".")):
        problems.add(where, f"{key!r} is not a dotted config key like 'model.roi_head.num_stages'")
        return False
    return True


def check_overrides(raw: Any, where: str, problems: Problems) -> dict[str, Any]:
    """A mapping of dotted config keys to values."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.add(where, f"must be a mapping of dotted config keys to values, got {_show(raw)}")
        return {}
    return {k: v for k, v in raw.items() if check_dotted_key(k, f"{where}.{k}", problems)}


def check_resource_fields(raw: Any, where: str, problems: Problems) -> dict[str, Any]:
    """Resource fields (a subset of :data:`RESOURCE_KEYS`) with their types."""
    if not check_keys(raw, where, RESOURCE_KEYS, problems):
        return {}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "mem_gb":
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not math.isfinite(value) or value <= 0:
                problems.add(f"{where}.mem_gb", f"must be a finite number > 0, got {_show(value)}")
                continue
            out[key] = float(value)
        elif key in RESOURCE_KEYS:
            out[key] = check_int(value, f"{where}.{key}", problems, 0 if key == "gpus" else 1)
    return out


def value_label(value: Any) -> str | None:
    """The automatic label of an axis value, or None when it needs an explicit one."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, int | float | str):
        return str(value)
    if isinstance(value, list) and all(
        isinstance(v, int | float | str) and not isinstance(v, bool) for v in value
    ):
        return "-".join(str(v) for v in value)
    return None


def check_label(label: Any, where: str, problems: Problems) -> str:
    """A value or case label: non-empty, no ``, = /`` (they build cell labels and folder names)."""
    if not isinstance(label, str | int | float) or isinstance(label, bool) or str(label) == "":
        problems.add(where, f"must be a non-empty string, got {_show(label)}")
        return ""
    text = str(label)
    if LABEL_FORBIDDEN.search(text) or text != text.strip():
        problems.add(
            where,
            f"label {text!r} may not contain ',', '=', '/', '\\', control characters or edge "
            "spaces",
        )
        return ""
    return text
