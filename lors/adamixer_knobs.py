"""The knob contract of the AdaMixer decoder (method.md section 7), validated in pure Python.

Sweeps, Optuna and ``--cfg-options`` reach the detector only through the config keys of
``KNOB_TYPES``, declared here once (the spec checker and the count tables import them)::

    model.roi_head.num_stages / num_groups / in_points / out_points / lors_cfg(.<LORS_KEYS>)
    model.rpn_head.num_queries

``parse_lors_cfg`` is the one validation of ``model.roi_head.lors_cfg``: the decoder calls it at
build time, and ``knobs_from_config`` (the spec checker, ``lors.adamixer_counting`` and the count
tables) at plan time, so all of them accept and reject the same values with the same messages.
No torch here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from lors.errors import ConfigError
from lors.spec import LORS_PARTS

ROI_KEY = "model.roi_head"
RPN_KEY = "model.rpn_head"
LORS_KEY = f"{ROI_KEY}.lors_cfg"
LORS_TYPES: dict[str, tuple[type, ...]] = {
    "adaptive": (bool,),
    "adaptive_rank": (int,),
    "adaptive_groups": (int, list),
    "static": (bool,),
    "static_rank": (int,),
    "parts": (str,),
}
"""The keys of ``model.roi_head.lors_cfg`` and the YAML types a sweep may give each."""
LORS_KEYS: tuple[str, ...] = tuple(LORS_TYPES)
KNOB_TYPES: dict[str, tuple[type, ...]] = {
    f"{ROI_KEY}.num_stages": (int,),
    f"{ROI_KEY}.num_groups": (int,),
    f"{ROI_KEY}.in_points": (int,),
    f"{ROI_KEY}.out_points": (int,),
    f"{RPN_KEY}.num_queries": (int,),
    LORS_KEY: (dict, type(None)),
    **{f"{LORS_KEY}.{key}": types for key, types in LORS_TYPES.items()},
}
"""Every dotted knob key and the types its value may have (an override of another key must keep
the type of the config value it replaces)."""


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

    @property
    def group_channels(self) -> int:
        """C_g = C / G, the channels each sampling group reads."""
        return self.content_dim // self.num_groups

    @property
    def projection_shape(self) -> tuple[int, int]:
        """``(in, out)`` features of the mixing block's output projection, G * P_out * C_g -> C."""
        return self.num_groups * self.out_points * self.group_channels, self.content_dim


# The sizes read from model.roi_head (num_queries is model.rpn_head's; lors_cfg is no size).
_ROI_SIZES = tuple(
    f.name for f in fields(DecoderKnobs) if f.name not in ("num_queries", "lors_cfg")
)


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
    if parts not in LORS_PARTS:
        problems.append(f"parts={parts!r} must be one of {list(LORS_PARTS)}")
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


def inert_lors_keys(cfg: LorsCfg) -> frozenset[str]:
    """The ``lors_cfg`` keys whose value changes nothing in the model ``cfg`` builds: the ranks
    and K of a part that is absent (``adaptive`` or ``static`` False, or ``parts="shared"``,
    which keeps no private terms), ``parts`` when neither LORS_A nor LORS_T is on. Two configs
    that differ only there build the same parameters from the same random stream: one run."""
    inert: set[str] = set()
    if not cfg.adaptive or cfg.parts == "shared":
        inert |= {"adaptive_rank", "adaptive_groups"}
    if not cfg.static or cfg.parts == "shared":
        inert.add("static_rank")
    if not cfg.adaptive and not cfg.static:
        inert.add("parts")
    return frozenset(inert)


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
    group_channels = k.group_channels
    if lors.adaptive:
        limit = min(group_channels, k.in_points, k.out_points)
        if lors.adaptive_rank > limit:
            problems.append(
                f"lors_cfg.adaptive_rank={lors.adaptive_rank} exceeds the dimensions it factors "
                f"(C/G={group_channels}, in_points={k.in_points}, out_points={k.out_points}): "
                f"at most {limit}"
            )
    if lors.static:
        limit = min(k.projection_shape)
        if lors.static_rank > limit:
            problems.append(f"lors_cfg.static_rank={lors.static_rank} exceeds {limit}")
    return problems


def _size(
    section: Mapping[str, Any], where: str, key: str, default: int, problems: list[str]
) -> int:
    """``section[key]`` (None or missing: ``default``) if it is an int >= 1, else the default after
    noting the problem: no ``int()`` here, which would accept 6.7 and fail on "six" unexplained."""
    value = section.get(key)
    if value is None:
        return default
    if not _positive_int(value):
        problems.append(f"{where}.{key}={value!r} must be an int >= 1")
        return default
    return int(value)


def knobs_from_config(cfg: Mapping[str, Any]) -> DecoderKnobs:
    """Read the decoder knobs from a (resolved) mmengine config given as a plain mapping.

    Args:
        cfg: the config, e.g. ``Config.fromfile(path).to_dict()`` or a run record's ``config``.

    Returns:
        The knobs, with defaults for keys the config leaves out (or sets to None).

    Raises:
        ConfigError: no ``model.roi_head``, a size that is not an int >= 1, or a bad ``lors_cfg``
            (every problem in one message).
    """
    model = cfg.get("model")
    if not isinstance(model, Mapping) or not isinstance(model.get("roi_head"), Mapping):
        raise ConfigError("config has no model.roi_head: not an AdaMixer config")
    roi = model["roi_head"]
    rpn = model.get("rpn_head") or {}
    d = DecoderKnobs()
    problems: list[str] = []
    sizes = {key: _size(roi, ROI_KEY, key, getattr(d, key), problems) for key in _ROI_SIZES}
    queries = _size(rpn, RPN_KEY, "num_queries", d.num_queries, problems)
    lors_cfg = None
    if not problems:  # a bad num_stages would make every adaptive_groups length look wrong
        try:
            lors_cfg = parse_lors_cfg(roi.get("lors_cfg"), sizes["num_stages"])
        except ConfigError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigError("; ".join(problems))
    return DecoderKnobs(**sizes, num_queries=queries, lors_cfg=lors_cfg)


def checked_knobs(cfg: Mapping[str, Any]) -> DecoderKnobs:
    """``knobs_from_config`` that also refuses dimensions the decoder cannot be built with.

    Raises:
        ConfigError: what ``knobs_from_config`` raises, or every ``shape_problems`` at once.
    """
    knobs = knobs_from_config(cfg)
    problems = shape_problems(knobs)
    if problems:
        raise ConfigError(f"{ROI_KEY}: " + "; ".join(problems))
    return knobs


def config_from_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The ``model`` part of a config made of dotted knob overrides alone (other keys ignored),
    for ``knobs_from_config``; ``lors_cfg`` may be given whole, key by key, or both (the keys win).
    """
    roi: dict[str, Any] = {}
    lors: dict[str, Any] = {}
    for key, value in overrides.items():
        if key.startswith(LORS_KEY + "."):
            lors[key.removeprefix(LORS_KEY + ".")] = value
        elif key.startswith(ROI_KEY + "."):
            roi[key.removeprefix(ROI_KEY + ".")] = value
    whole = roi.get("lors_cfg")
    if lors and (whole is None or isinstance(whole, Mapping)):  # else parse_lors_cfg reports it
        roi["lors_cfg"] = {**(whole or {}), **lors}
    queries = overrides.get(f"{RPN_KEY}.num_queries")
    return {"model": {"roi_head": roi, "rpn_head": {"num_queries": queries}}}
