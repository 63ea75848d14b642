"""The knob contract of the AdaMixer decoder (method.md section 7), validated in pure Python.

Sweeps, Optuna and ``--cfg-options`` reach the detector only through these config keys::

    model.roi_head.num_stages / num_groups / in_points / out_points / lors_cfg
    model.rpn_head.num_queries

``parse_lors_cfg`` is the one validation of ``model.roi_head.lors_cfg``: the decoder calls it at
build time and ``lors.adamixer_counting`` at plan time, so both accept and reject the same dicts.
No torch here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lors.errors import ConfigError

LORS_KEYS: tuple[str, ...] = (
    "adaptive",
    "adaptive_rank",
    "adaptive_groups",
    "static",
    "static_rank",
    "parts",
)
PARTS: tuple[str, ...] = ("both", "shared", "private")


@dataclass(frozen=True)
class LorsCfg:
    """LORS settings of the decoder, with ``adaptive_groups`` expanded to one entry per stage.

    Args:
        adaptive: LORS_A on the mixing weights M and S.
        adaptive_rank: rank ``r`` of the adaptive private terms.
        adaptive_groups: ``K_i`` of every stage.
        static: LORS_T on the output projection of the mixing block.
        static_rank: rank of the static private term.
        parts: ``both``, ``shared`` (no private terms) or ``private`` (no shared weights).
    """

    adaptive: bool = True
    adaptive_rank: int = 16
    adaptive_groups: tuple[int, ...] = (1, 1, 2, 2, 3, 3)
    static: bool = True
    static_rank: int = 8
    parts: str = "both"


@dataclass(frozen=True)
class DecoderKnobs:
    """Everything that sets the decoder's parameter count (defaults: plain AdaMixer on COCO)."""

    num_stages: int = 6
    num_groups: int = 4
    in_points: int = 32
    out_points: int = 128
    num_queries: int = 100
    num_classes: int = 80
    content_dim: int = 256
    feedforward_channels: int = 2048
    num_heads: int = 8
    lors_cfg: LorsCfg | None = None


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def parse_lors_cfg(raw: Mapping[str, Any] | None, num_stages: int) -> LorsCfg | None:
    """Validate ``model.roi_head.lors_cfg`` and expand ``adaptive_groups`` to ``num_stages``.

    Missing keys take the release values (``adaptive_groups`` defaults to 1 for every stage, which
    fits any depth). Every problem is collected and reported in one error.

    Args:
        raw: the config value: ``None`` (plain AdaMixer) or a mapping with keys in ``LORS_KEYS``.
        num_stages: decoder depth, the required length of a list-valued ``adaptive_groups``.

    Returns:
        ``None`` for plain AdaMixer, else the validated settings.

    Raises:
        ConfigError: unknown key, wrong type or value, or ``adaptive_groups`` of the wrong length.
    """
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"model.roi_head.lors_cfg={raw!r}: must be None or a dict with keys {list(LORS_KEYS)}"
        )
    problems: list[str] = []
    unknown = sorted(set(raw) - set(LORS_KEYS))
    if unknown:
        problems.append(f"unknown key(s) {unknown}; valid keys: {list(LORS_KEYS)}")
    for key in ("adaptive", "static"):
        if key in raw and not isinstance(raw[key], bool):
            problems.append(f"{key}={raw[key]!r} must be True or False")
    for key in ("adaptive_rank", "static_rank"):
        if key in raw and not _positive_int(raw[key]):
            problems.append(f"{key}={raw[key]!r} must be an int >= 1")
    parts = raw.get("parts", "both")
    if parts not in PARTS:
        problems.append(f"parts={parts!r} must be one of {list(PARTS)}")
    groups = _expand_groups(raw.get("adaptive_groups", 1), num_stages, problems)
    if problems:
        raise ConfigError("model.roi_head.lors_cfg: " + "; ".join(problems))
    return LorsCfg(
        adaptive=raw.get("adaptive", True),
        adaptive_rank=raw.get("adaptive_rank", 16),
        adaptive_groups=groups,
        static=raw.get("static", True),
        static_rank=raw.get("static_rank", 8),
        parts=parts,
    )


def _expand_groups(value: Any, num_stages: int, problems: list[str]) -> tuple[int, ...]:
    if _positive_int(value):
        return (value,) * num_stages
    if isinstance(value, Sequence) and not isinstance(value, str):
        groups = tuple(value)
        if len(groups) != num_stages:
            problems.append(
                f"adaptive_groups={list(groups)} has {len(groups)} entries; expected "
                f"{num_stages} (model.roi_head.num_stages), or one int for every stage"
            )
        if not all(_positive_int(k) for k in groups):
            problems.append(f"adaptive_groups={list(groups)}: every entry must be an int >= 1")
        return groups
    problems.append(
        f"adaptive_groups={value!r} must be an int >= 1 or a list of {num_stages} ints "
        "(one per stage)"
    )
    return ()


def shape_problems(k: DecoderKnobs) -> list[str]:
    """What is wrong with the decoder's dimensions: each problem as one phrase, none if fine.

    The decoder refuses these at build time; the harness asks before it submits anything, so a
    cell that cannot build is reported with its spec key, not found on the cluster.
    """
    sizes = {
        "num_stages": k.num_stages,
        "num_groups": k.num_groups,
        "in_points": k.in_points,
        "out_points": k.out_points,
        "content_dim": k.content_dim,
        "num_heads": k.num_heads,
        "num_queries": k.num_queries,
    }
    problems = [
        f"{name}={value!r} must be an int >= 1"
        for name, value in sizes.items()
        if not _positive_int(value)
    ]
    if problems:
        return problems
    if k.content_dim % k.num_groups:
        problems.append(
            f"num_groups={k.num_groups} must divide content_dim={k.content_dim} "
            f"(valid: {[g for g in range(1, k.content_dim + 1) if k.content_dim % g == 0]})"
        )
    if k.content_dim % k.num_heads:
        problems.append(f"num_heads={k.num_heads} must divide content_dim={k.content_dim}")
    if k.content_dim % 8:
        problems.append(f"content_dim={k.content_dim} must be a multiple of 8 (position embedding)")
    lors = k.lors_cfg
    if lors is None or problems:
        return problems
    group_channels = k.content_dim // k.num_groups
    if lors.adaptive:
        limit = min(group_channels, k.in_points, k.out_points)
        if lors.adaptive_rank > limit:
            problems.append(
                f"lors_cfg.adaptive_rank={lors.adaptive_rank} exceeds the dimensions it factors "
                f"(C/G={group_channels}, in_points={k.in_points}, out_points={k.out_points}): "
                f"at most {limit}"
            )
    if lors.static:
        limit = min(k.num_groups * k.out_points * group_channels, k.content_dim)
        if lors.static_rank > limit:
            problems.append(f"lors_cfg.static_rank={lors.static_rank} exceeds {limit}")
    return problems


def _get(mapping: Mapping[str, Any], key: str, default: Any) -> Any:
    value = mapping.get(key, default)
    return default if value is None and default is not None else value


def knobs_from_config(cfg: Mapping[str, Any]) -> DecoderKnobs:
    """Read the decoder knobs from a (resolved) mmengine config given as a plain mapping.

    Args:
        cfg: the config, e.g. ``Config.fromfile(path).to_dict()`` or a run record's ``config``.

    Returns:
        The knobs, with defaults for keys the config leaves out.

    Raises:
        ConfigError: the config has no ``model.roi_head`` / ``model.rpn_head``, or a bad
            ``lors_cfg``.
    """
    model = cfg.get("model")
    if not isinstance(model, Mapping) or not isinstance(model.get("roi_head"), Mapping):
        raise ConfigError("config has no model.roi_head: not an AdaMixer config")
    roi = model["roi_head"]
    rpn = model.get("rpn_head") or {}
    d = DecoderKnobs()
    num_stages = int(_get(roi, "num_stages", d.num_stages))
    return DecoderKnobs(
        num_stages=num_stages,
        num_groups=int(_get(roi, "num_groups", d.num_groups)),
        in_points=int(_get(roi, "in_points", d.in_points)),
        out_points=int(_get(roi, "out_points", d.out_points)),
        num_queries=int(_get(rpn, "num_queries", d.num_queries)),
        num_classes=int(_get(roi, "num_classes", d.num_classes)),
        content_dim=int(_get(roi, "content_dim", d.content_dim)),
        feedforward_channels=int(_get(roi, "feedforward_channels", d.feedforward_channels)),
        num_heads=int(_get(roi, "num_heads", d.num_heads)),
        lors_cfg=parse_lors_cfg(roi.get("lors_cfg"), num_stages),
    )
