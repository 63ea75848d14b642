"""Cluster settings for the SLURM executor: ``slurm/profiles/<name>.yaml``.

Keys (all optional): ``partition``, ``account``, ``qos``, ``constraint``, ``exclude``;
``signal_delay_s``: how long before the time limit SLURM signals the job to checkpoint and
requeue; ``request_memory``: ``auto`` (the default) asks for the run's ``mem_gb`` unless the
cluster's nodes declare no memory (sbatch then refuses any ``--mem``), or true / false;
``max_array_size``: at most this many tasks per array (below the cluster's own MaxArraySize,
e.g. where a QOS caps the jobs one user may queue); ``setup``: shell lines run before the job
(``module load ...``); ``additional``: any other sbatch option, name -> value. Unknown keys
are errors that list the valid ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ProfileError

PROFILE_KEYS: tuple[str, ...] = (
    "partition",
    "account",
    "qos",
    "constraint",
    "exclude",
    "signal_delay_s",
    "request_memory",
    "max_array_size",
    "setup",
    "additional",
)


@dataclass(frozen=True)
class SlurmProfile:
    """A cluster's settings (see the module docstring)."""

    name: str = "default"
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    constraint: str | None = None
    exclude: str | None = None
    signal_delay_s: int = 120
    request_memory: bool | str = "auto"
    max_array_size: int | None = None
    setup: tuple[str, ...] = ()
    additional: Mapping[str, Any] = field(default_factory=dict)

    def submitit_parameters(self) -> dict[str, Any]:
        """The profile as submitit ``AutoExecutor`` parameters."""
        params: dict[str, Any] = {"slurm_signal_delay_s": self.signal_delay_s}
        for key in ("partition", "account", "qos", "constraint", "exclude"):
            value = getattr(self, key)
            if value:
                params[f"slurm_{key}"] = value
        if self.setup:
            params["slurm_setup"] = list(self.setup)
        if self.additional:
            params["slurm_additional_parameters"] = dict(self.additional)
        return params


def load_slurm_profile(name: str | None, profiles_dir: Path | Sequence[Path]) -> SlurmProfile:
    """Load a profile by name (a file in the first of ``profiles_dir`` that has it) or by path.

    A missing ``default`` profile is the cluster's defaults.

    Raises:
        ProfileError: the file is missing (for a name other than ``default``), not YAML, or has
            an unknown key or a bad value.
    """
    name = name or "default"
    dirs = [profiles_dir] if isinstance(profiles_dir, Path) else list(profiles_dir)
    candidates = (
        [Path(name)] if name.endswith((".yaml", ".yml")) else [d / f"{name}.yaml" for d in dirs]
    )
    path = next((c for c in candidates if c.is_file()), candidates[0])
    if not path.is_file():
        if name == "default":
            return SlurmProfile()
        known = sorted({p.stem for d in dirs if d.is_dir() for p in d.glob("*.yaml")})
        raise ProfileError(f"--slurm-profile {name!r}: no file {path}; profiles: {known}")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(raw, Mapping):
        raise ProfileError(f"{path}: must be a mapping with keys {list(PROFILE_KEYS)}")
    unknown = sorted(set(raw) - set(PROFILE_KEYS))
    if unknown:
        raise ProfileError(f"{path}: unknown key(s) {unknown}; valid keys: {list(PROFILE_KEYS)}")
    setup = raw.get("setup") or []
    additional = raw.get("additional") or {}
    delay = raw.get("signal_delay_s", 120)
    if not isinstance(setup, list) or not all(isinstance(s, str) for s in setup):
        raise ProfileError(f"{path}: setup must be a list of shell lines, got {setup!r}")
    if not isinstance(additional, Mapping):
        raise ProfileError(f"{path}: additional must map sbatch options to values")
    if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
        raise ProfileError(f"{path}: signal_delay_s must be an int >= 0, got {delay!r}")
    request_memory = raw.get("request_memory", "auto")
    if not isinstance(request_memory, bool) and request_memory != "auto":
        raise ProfileError(
            f"{path}: request_memory must be auto, true or false, got {request_memory!r}"
        )
    max_array = raw.get("max_array_size")
    if max_array is not None and (
        not isinstance(max_array, int) or isinstance(max_array, bool) or max_array < 1
    ):
        raise ProfileError(f"{path}: max_array_size must be an int >= 1, got {max_array!r}")
    strs = {k: raw.get(k) for k in ("partition", "account", "qos", "constraint", "exclude")}
    for key, value in strs.items():
        if value is not None and not isinstance(value, str):
            raise ProfileError(f"{path}: {key} must be a string, got {value!r}")
    return SlurmProfile(
        path.stem,
        **strs,
        signal_delay_s=delay,
        request_memory=request_memory,
        max_array_size=max_array,
        setup=tuple(setup),
        additional=additional,
    )
