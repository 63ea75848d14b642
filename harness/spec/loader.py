"""``load_spec``: a sweep YAML file -> a validated, frozen :class:`SweepSpec`.

Every problem in the file is collected and raised at once in one :class:`SpecError`. Relative
paths (``base``) resolve against the project root (``harness.spec.roots``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.errors import SpecError
from harness.spec.expand import axis_values, count_points, expand_cells, label_slug
from harness.spec.model import Cases, Node, Profile, Resources, SweepSpec
from harness.spec.parse_axes import AxesParser
from harness.spec.parse_search import check_search, parse_search
from harness.spec.parse_table import check_table_axes, parse_table
from harness.spec.reading import (
    SWEEP_NAME,
    Problems,
    check_dotted_key,
    check_int,
    check_keys,
    check_label,
    check_overrides,
    check_resource_fields,
    check_str,
    read_yaml,
)
from harness.spec.roots import HARNESS_ROOT, config_path
from harness.spec.validate import ConfigChecker, conflicts

TOP_KEYS: tuple[str, ...] = (
    "name",
    "description",
    "base",
    "profiles",
    "default_profile",
    "axes",
    "seeds",
    "seed_key",
    "table",
    "search",
)
PROFILE_KEYS: tuple[str, ...] = (
    "description",
    "base",
    "overrides",
    "resources",
    "slurm",
    "subset",
    "seeds",
)
#: runs of one sweep in one profile (cells x seeds); bench_tables plans 10,000 in a few seconds
MAX_CELLS = 20_000


def project_root(spec_path: Path) -> Path:
    """The nearest folder above the spec holding a ``pyproject.toml``, else the spec's folder."""
    start = spec_path.resolve().parent
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    return start


def load_spec(path: str | Path) -> SweepSpec:
    """Load and validate a sweep spec.

    Args:
        path: the YAML file.

    Returns:
        The validated spec.

    Raises:
        SpecError: listing every problem of the file at once (one line).
    """
    path = Path(path)
    problems = Problems()
    raw = read_yaml(path, problems)
    # a file that is not YAML or not a mapping: nothing more to check
    required = ("name",) if isinstance(raw, dict) and "search" in raw else ("name", "axes")
    checked = not problems and check_keys(raw, "", TOP_KEYS, problems, required=required)
    if not checked and not isinstance(raw, dict):
        raise SpecError(path, problems.items)
    spec = _parse(raw, path, problems)
    _check_spec(spec, problems)
    if problems:
        raise SpecError(path, problems.items)
    return spec


def _parse(raw: dict[str, Any], path: Path, problems: Problems) -> SweepSpec:
    """The spec's blocks, each parsed; stops early when the axes or profiles are unusable."""
    root = project_root(path)
    name = check_str(raw.get("name"), "name", problems, SWEEP_NAME)
    table = parse_table(raw["table"], problems) if "table" in raw else None
    runs = table is None or table.kind == "runs"
    base = _path(raw.get("base"), "base", root, problems) if "base" in raw else None
    if runs and base is None and "base" not in raw:
        problems.add(
            "base", "required key is missing (the mmengine config every profile starts from)"
        )
    profiles = _profiles(raw.get("profiles"), base, root, runs, problems)
    parser = AxesParser(problems, tuple(profiles), root)
    search = parse_search(raw["search"], problems) if "search" in raw else None
    if "search" in raw and "axes" in raw:
        problems.add(
            "axes", "a spec has axes or a search block, not both (its cells come from one)"
        )
    axes = parser.node(raw.get("axes"), "axes") if "search" not in raw else Cases("trial", ())
    for where in parser.cases_with_base[1:]:
        problems.add(
            where,
            f"a second cases block sets a base config (the first is {parser.cases_with_base[0]});"
            " a cell can start from one config only",
        )
    seeds = _seeds(raw.get("seeds"), "seeds", problems)
    if axes is not None:
        _check_size(axes, seeds, profiles, path, problems)
    seed_key = raw.get("seed_key", "randomness.seed")
    check_dotted_key(seed_key, "seed_key", problems)
    default = raw.get(
        "default_profile", "paper" if "paper" in profiles else next(iter(profiles), "")
    )
    if profiles and default not in profiles:
        problems.add(
            "default_profile", f"no profile {default!r}; valid profiles: {sorted(profiles)}"
        )
    if axes is None or (not profiles and runs):
        raise SpecError(path, problems.items)
    conflicts(axes, "axes", problems)
    return SweepSpec(
        name=name,
        path=path,
        description=str(raw.get("description", "")),
        profiles=profiles,
        axes=axes,
        seeds=seeds,
        seed_key=str(seed_key),
        table=table,
        default_profile=default,
        search=search,
    )


def _check_spec(spec: SweepSpec, problems: Problems) -> None:
    """What needs the whole spec: profile subsets, table axes, labels, and every cell's config."""
    profiles, table, default = spec.profiles, spec.table, spec.default_profile
    if spec.search is not None:
        check_search(spec, problems)
        return
    for profile in profiles.values():
        _check_subset(spec, profile, problems)
    if default not in profiles:
        return
    if table is not None:
        check_table_axes(spec, table, problems)
    _check_labels(spec, problems)
    if table is not None and table.kind != "runs":
        return
    checker = ConfigChecker(problems)
    for pname, profile in profiles.items():
        # each base config of the profile's cells, checked with the cells that start from it
        for base in dict.fromkeys(c.base for c in spec.cells(pname)):
            start = profile if base is None else replace(profile, base=base)
            cfg = checker.profile(start, f"profiles.{pname}")
            if cfg is not None:
                checker.cells(spec.axes, cfg, spec.seed_key, profile, base)


def _check_size(
    axes: Node,
    seeds: tuple[int, ...],
    profiles: Mapping[str, Profile],
    path: Path,
    problems: Problems,
) -> None:
    """Stop before anything is expanded when the axes and seeds multiply to too many cells."""
    points = count_points(axes)
    most = max([len(seeds) or 1, *(len(p.seeds or ()) for p in profiles.values())])
    if points * most > MAX_CELLS:
        problems.add(
            "axes",
            f"the axes multiply to {points:,} cells x {most} seeds = {points * most:,} runs; a "
            f"sweep may have at most {MAX_CELLS:,} (split it into several specs)",
        )
        raise SpecError(path, problems.items)


def _path(raw: Any, where: str, root: Path, problems: Problems) -> Path | None:
    text = check_str(raw, where, problems)
    return config_path(text, where, root, problems) if text else None


def _profiles(
    raw: Any, base: Path | None, root: Path, runs: bool, problems: Problems
) -> dict[str, Profile]:
    if raw is None:
        if runs:
            problems.add("profiles", "required key is missing (at least one profile, e.g. paper)")
        return {}
    if not isinstance(raw, Mapping) or not raw:
        problems.add("profiles", "must map profile names (paper, smoke, ...) to profiles")
        return {}
    out = {}
    for name, body in raw.items():
        where = f"profiles.{name}"
        if not check_str(name, where, problems, SWEEP_NAME):
            continue
        if body is None:
            body = {}
        if not check_keys(body, where, PROFILE_KEYS, problems):
            continue
        pbase = _path(body["base"], f"{where}.base", root, problems) if "base" in body else base
        fields = check_resource_fields(body.get("resources", {}), f"{where}.resources", problems)
        subset_raw = body.get("subset", {})
        subset: dict[str, tuple[str, ...]] = {}
        if not isinstance(subset_raw, Mapping):
            problems.add(f"{where}.subset", "must map axis names to lists of value labels")
        else:
            for axis, labels in subset_raw.items():
                if not isinstance(labels, list) or not labels:
                    problems.add(f"{where}.subset.{axis}", "must be a non-empty list of labels")
                    continue
                subset[str(axis)] = tuple(
                    check_label(v, f"{where}.subset.{axis}", problems) for v in labels
                )
        slurm = body.get("slurm")
        if slurm is not None:
            slurm = _slurm_profile(slurm, f"{where}.slurm", root, problems)
        out[str(name)] = Profile(
            name=str(name),
            base=pbase,
            overrides=check_overrides(body.get("overrides"), f"{where}.overrides", problems),
            resources=Resources().overlay(fields),
            slurm=slurm or None,
            subset=subset,
            seeds=_seeds(body["seeds"], f"{where}.seeds", problems) if "seeds" in body else None,
        )
    return out


def _slurm_profile(raw: Any, where: str, root: Path, problems: Problems) -> str:
    """A profile name of ``slurm/profiles/`` (the project's or the harness's) that exists."""
    name = check_str(raw, where, problems, SWEEP_NAME)
    if not name or name == "default":
        return name
    folders = [root / "slurm" / "profiles", HARNESS_ROOT / "slurm" / "profiles"]
    if any((folder / f"{name}.yaml").is_file() for folder in folders):
        return name
    known = sorted({p.stem for f in folders if f.is_dir() for p in f.glob("*.yaml")})
    choices = sorted({"default", *known})
    problems.add(where, f"no SLURM profile {name!r} in slurm/profiles/; profiles: {choices}")
    return ""


def _seeds(raw: Any, where: str, problems: Problems) -> tuple[int, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        problems.add(where, f"must be a non-empty list of ints, got {raw!r}")
        return ()
    # numpy and mmengine take seeds in [0, 2**32)
    seeds = tuple(check_int(s, f"{where}[{i}]", problems, 0, 2**32) for i, s in enumerate(raw))
    if len(set(seeds)) != len(seeds):
        problems.add(where, f"duplicate seeds in {list(seeds)}")
    return seeds


def _check_subset(spec: SweepSpec, profile: Profile, problems: Problems) -> None:
    values = axis_values(spec.axes, Profile(profile.name, profile.base))
    for axis, labels in profile.subset.items():
        where = f"profiles.{profile.name}.subset.{axis}"
        if axis not in values:
            problems.add(where, f"no axis {axis!r}; axes: {list(values)}")
            continue
        for label in labels:
            if label not in values[axis]:
                problems.add(where, f"{label!r} is not a value of {axis}; values: {values[axis]}")


def _check_labels(spec: SweepSpec, problems: Problems) -> None:
    for profile in spec.profiles.values():
        cells = expand_cells(spec, profile)
        if not cells:
            problems.add(f"profiles.{profile.name}.subset", "keeps no cell of the sweep")
        seen: dict[str, str] = {}
        for cell in cells:
            slug = label_slug(cell.label)
            if slug in seen:
                problems.add(
                    "axes",
                    f"duplicate cell label {cell.label!r} (as a folder name {slug!r}) in profile "
                    f"{profile.name!r}: make value labels unique",
                )
            seen[slug] = cell.label
