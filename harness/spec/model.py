"""The sweep spec as frozen dataclasses: what the loader returns and everything past it reads.

Nothing here parses YAML or validates; ``harness.spec.loader`` builds these objects only from
input it has checked, so the rest of the harness never sees a raw dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.spec.search_model import SearchSpec

RESOURCE_KEYS: tuple[str, ...] = ("gpus", "cpus", "mem_gb", "timeout_min", "tasks", "nodes")
TABLE_KINDS: tuple[str, ...] = ("runs", "counts")


@dataclass(frozen=True)
class Resources:
    """What one run asks the executor for.

    Args:
        gpus: GPUs per node; with more than one, the job starts one process per GPU.
        cpus: CPU cores per node, all its processes together.
        mem_gb: memory per node in GiB.
        timeout_min: wall-clock limit of one attempt in minutes (a timed-out attempt requeues
            and resumes from its last checkpoint).
        tasks: processes per node without GPUs (more than one: ``torch.distributed`` over
            gloo on CPU); with GPUs, one per GPU whatever this says.
        nodes: nodes of the run (SLURM only).
    """

    gpus: int = 0
    cpus: int = 1
    mem_gb: float = 4.0
    timeout_min: int = 60
    tasks: int = 1
    nodes: int = 1

    @property
    def tasks_per_node(self) -> int:
        """Processes per node: one per GPU, else ``tasks``."""
        return max(1, self.gpus, self.tasks)

    @property
    def processes(self) -> int:
        """Processes of the run, all nodes together (its ``WORLD_SIZE``)."""
        return self.tasks_per_node * self.nodes

    def overlay(self, changes: Mapping[str, Any]) -> Resources:
        """These resources with some fields replaced."""
        return replace(self, **dict(changes)) if changes else self

    def short(self) -> str:
        """``8g/32c/128G/1440m``: the plan table's resource column."""
        short = f"{self.gpus}g/{self.cpus}c/{self.mem_gb:g}G/{self.timeout_min}m"
        if self.processes > 1:  # ``8g/32c/128G/1440m/2x8p``: nodes x processes per node
            short += f"/{self.nodes}x{self.tasks_per_node}p"
        return short


@dataclass(frozen=True)
class ResourceOverlay:
    """Resource changes attached to an axis value or a case.

    Args:
        everywhere: fields changed in every profile.
        by_profile: profile name -> fields changed in that profile only (applied after
            ``everywhere``).
    """

    everywhere: Mapping[str, Any] = field(default_factory=dict)
    by_profile: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def apply(self, resources: Resources, profile: str) -> Resources:
        """``resources`` with this overlay's changes for ``profile``."""
        return resources.overlay(self.everywhere).overlay(self.by_profile.get(profile, {}))


@dataclass(frozen=True)
class Profile:
    """A named overlay of the sweep (``paper``, ``smoke``, ...).

    Args:
        name: the profile's name.
        base: the mmengine config of this profile (the spec's ``base`` unless it sets its own);
            None only for a ``counts`` table, which has no runs.
        overrides: dotted config key -> value, applied to every cell of the profile.
        resources: default resources of a cell.
        slurm: name of the cluster settings under ``slurm/profiles/`` (None: ``default``).
        subset: axis name -> value labels kept in this profile (other cells are left out).
        seeds: replicate seeds of this profile, or None for the spec's ``seeds`` (a smoke
            profile runs several seeds where a paper profile affords one).
    """

    name: str
    base: Path | None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    resources: Resources = field(default_factory=Resources)
    slurm: str | None = None
    subset: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    seeds: tuple[int, ...] | None = None


@dataclass(frozen=True)
class AxisValue:
    """One value of an axis: the label the table shows and the config value it sets."""

    label: str
    value: Any
    resources: ResourceOverlay = field(default_factory=ResourceOverlay)


@dataclass(frozen=True)
class Axis:
    """A named axis that sets one config key to each of its values in turn.

    ``where`` is the axis's location in the spec file, for error messages.
    """

    name: str
    key: str
    values: tuple[AxisValue, ...]
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class Case:
    """One explicitly listed row: a label, the overrides it sets in every profile, and those it
    sets in one profile only (``by_profile``: a LORS layout differs between paper and smoke).
    ``base`` maps a profile to the config this case starts from there instead of the profile's
    (Table 3: one paper config per backbone); profiles it does not name keep their own."""

    label: str
    overrides: Mapping[str, Any]
    resources: ResourceOverlay = field(default_factory=ResourceOverlay)
    by_profile: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    base: Mapping[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class Cases:
    """An axis whose values are explicit cases, each setting any number of keys.

    ``where`` is the block's location in the spec file, for error messages.
    """

    name: str
    items: tuple[Case, ...]
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class Grid:
    """The product of its children (the first child varies slowest)."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Zip:
    """Its children in lockstep: value i of every child together (equal lengths)."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class OneAtATime:
    """A baseline cell plus every other value of each axis, the others kept at the baseline."""

    baseline: Mapping[str, str]
    axes: tuple[Axis, ...]


Node = Axis | Cases | Grid | Zip | OneAtATime


@dataclass(frozen=True)
class TableSpec:
    """The spec's ``table`` block (docs/record.md), read by ``analysis``."""

    title: str
    label: str
    rows: str
    columns: str
    metrics: tuple[str, ...]
    baseline: Mapping[str, str] | None = None
    delta: str | None = None
    kind: str = "runs"
    baseline_by_profile: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def baseline_of(self, profile: str) -> Mapping[str, str] | None:
        """The Δ column's baseline in ``profile``: its own (``by_profile``), else the table's
        (a smoke profile's subset may leave the paper's baseline out)."""
        return self.baseline_by_profile.get(profile, self.baseline)


@dataclass(frozen=True)
class Cell:
    """One point of a sweep in one profile.

    Args:
        label: readable and unique within the sweep and profile (``K=2,r=16,seed=0``).
        coords: axis name -> value label (the seed is not an axis).
        seed: the replicate's seed, or None when the spec lists no seeds.
        overrides: dotted config key -> value that this cell sets (seed included), on top of
            the profile's overrides.
        resources: what one run of this cell asks for.
        base: the config this cell starts from when a case sets one for the profile (None: the
            profile's base).
    """

    label: str
    coords: Mapping[str, str]
    seed: int | None
    overrides: Mapping[str, Any]
    resources: Resources
    base: Path | None = None


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec. Build it with :func:`harness.spec.load_spec`.

    Args:
        name: the sweep's name (names its folder under the runs root).
        path: the spec file.
        description: free text.
        profiles: profile name -> profile.
        axes: the tree of axis operators.
        seeds: replicate seeds (empty: one run per cell, no seed override); a profile's own
            ``seeds`` replace them in that profile (:meth:`seeds_of`).
        seed_key: the config key each seed is written to.
        table: the ``table`` block, or None.
        default_profile: the profile used when none is asked for.
        search: the ``search`` block (``harness.spec.search``), or None; a search spec has no
            axes of its own: ``harness.search`` makes its cells from the study's trials.
    """

    name: str
    path: Path
    description: str
    profiles: Mapping[str, Profile]
    axes: Node
    seeds: tuple[int, ...] = ()
    seed_key: str = "randomness.seed"
    table: TableSpec | None = None
    default_profile: str = "paper"
    search: SearchSpec | None = None

    def profile(self, name: str | None = None) -> Profile:
        """The profile of that name (the default profile for None).

        Raises:
            SpecError: no such profile; lists the profiles of the spec.
        """
        from harness.errors import SpecError

        name = name or self.default_profile
        if name not in self.profiles:
            raise SpecError(
                self.path,
                [("profiles", f"no profile {name!r}; valid profiles: {sorted(self.profiles)}")],
            )
        return self.profiles[name]

    def seeds_of(self, profile: Profile) -> tuple[int, ...]:
        """The seeds every cell of ``profile`` runs (the profile's own, else the spec's)."""
        return self.seeds if profile.seeds is None else profile.seeds

    def cells(self, profile: str | None = None) -> list[Cell]:
        """Every cell of the sweep in a profile, in spec order (seeds innermost)."""
        from harness.spec.expand import expand_cells

        return expand_cells(self, self.profile(profile))

    def axis_values(self, profile: str | None = None) -> dict[str, list[str]]:
        """Axis name -> value labels in spec order (kept by the profile's subset)."""
        from harness.spec.expand import axis_values

        return axis_values(self.axes, self.profile(profile))
