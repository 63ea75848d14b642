"""The one place a cell's run id is worked out: resolved config, data manifest, code version.

The plan, the job and the analysis all call this module, so the three can never disagree on what
a run id means. No torch, no reads of run folders: a cell's identity depends on the spec, the
configs, the dataset files and the source only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.identity.code import CodeVersion, code_version
from harness.identity.config import ConfigHasher, run_id
from harness.identity.data import DataManifest, manifest_of
from harness.spec.config import apply_overrides, load_config
from harness.spec.model import Cell, Profile, SweepSpec

PARTS_OF_ID: tuple[str, ...] = ("config", "data", "code")


@dataclass(frozen=True)
class Identity:
    """The three parts a run id hashes (the record's ``identity`` block).

    Args:
        config: the config digest (:class:`~harness.identity.config.ConfigHasher`).
        data: the data manifest.
        code: the code's source hash.
    """

    config: str
    data: str
    code: str

    @property
    def run_id(self) -> str:
        """The run id of these parts."""
        return run_id(self.config, self.data, self.code)

    def as_record(self) -> dict[str, str]:
        """The record's ``identity`` block."""
        return {"config": self.config, "data": self.data, "code": self.code}


@dataclass(frozen=True)
class ResolvedCell:
    """A cell with the config it trains and the identity of that run.

    Args:
        cell: the spec's cell.
        config: the resolved config (plain dict; shares containers with the other cells).
        identity: the run's identity parts.
        data: the data manifest with the dataset paths missing here.
        overrides: the profile's and the cell's overrides, as the job applies them.
    """

    cell: Cell
    config: Mapping[str, Any]
    identity: Identity
    data: DataManifest
    overrides: Mapping[str, Any]

    @property
    def run_id(self) -> str:
        """The cell's run id."""
        return self.identity.run_id


_CONFIGS: dict[tuple[Path, int, str], dict[str, Any]] = {}


def profile_config(profile: Profile) -> dict[str, Any]:
    """The profile's resolved config (its base with its overrides), loaded once per process."""
    if profile.base is None:
        return {}
    key = (profile.base, profile.base.stat().st_mtime_ns, repr(sorted(profile.overrides.items())))
    if key not in _CONFIGS:
        _CONFIGS[key] = apply_overrides(load_config(profile.base), profile.overrides)
    return _CONFIGS[key]


_HASHERS: dict[int, ConfigHasher] = {}
_HASHER_MEMO_LIMIT = 200_000  # containers one hasher may keep alive before it starts afresh


def _hasher_for(base: dict[str, Any]) -> ConfigHasher:
    """The hasher of one base config, kept across plans: a search plans once per trial, and a
    fresh hasher re-hashes the whole base config each time (1.2 M instructions a trial).

    ``base`` stays alive in ``_CONFIGS``, so its id names it for the life of the process.
    """
    hasher = _HASHERS.get(id(base))
    if hasher is None or len(hasher) > _HASHER_MEMO_LIMIT:
        hasher = _HASHERS[id(base)] = ConfigHasher()
    return hasher


def _touches_data(overrides: Mapping[str, Any]) -> bool:
    return any("dataloader" in k or "data_root" in k for k in overrides)


def resolve_cells(
    spec: SweepSpec, profile: str | None = None, code: CodeVersion | None = None
) -> tuple[Profile, DataManifest, list[ResolvedCell]]:
    """Every cell of a profile with its resolved config and identity, in spec order.

    Args:
        spec: the sweep spec.
        profile: the profile (default: the spec's default profile).
        code: the code version (default: this checkout's).

    Returns:
        ``(profile, the profile's data manifest, the cells)``.
    """
    prof = spec.profile(profile)
    base = profile_config(prof)
    hasher = _hasher_for(base)
    source = (code or code_version()).source_hash
    manifest = manifest_of(base)
    out = []
    for cell in spec.cells(prof.name):
        own = cell.base is not None  # a case that starts from its own config here
        start = profile_config(replace(prof, base=cell.base)) if own else base
        cfg = apply_overrides(start, cell.overrides)
        data = manifest_of(cfg) if own or _touches_data(cell.overrides) else manifest
        identity = Identity(hasher.digest(cfg), data.digest, source)
        out.append(ResolvedCell(cell, cfg, identity, data, {**prof.overrides, **cell.overrides}))
    return prof, manifest, out


def identify(cfg: Mapping[str, Any], data: str, code: CodeVersion | None = None) -> Identity:
    """The identity of one resolved config read against a data manifest (the job's check)."""
    return Identity(ConfigHasher().digest(cfg), data, (code or code_version()).source_hash)
