"""Where a spec may take its configs from: the trusted config roots.

A spec is data, but an mmengine config is Python that runs when it is loaded, on the launching
machine and on every compute node. So a spec's ``base`` (and a case's ``base``) must resolve,
symbolic links followed, inside a trusted root, and anything else is refused before the file is
opened. The trusted roots are:

- ``configs/`` of the spec's project (the nearest folder above the spec with a ``pyproject.toml``)
  and of the harness's own checkout;
- the folders listed in ``[tool.lors] config_roots`` of that project's ``pyproject.toml``
  (relative to the project);
- the folders in ``$LORS_CONFIG_ROOTS`` (separated by ``:``), for configs kept elsewhere.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path

from harness.spec.reading import Problems

CONFIG_ROOTS_ENV = "LORS_CONFIG_ROOTS"
HARNESS_ROOT = Path(__file__).resolve().parents[2]


@cache
def _declared(project: Path) -> tuple[Path, ...]:
    """``[tool.lors] config_roots`` of the project's ``pyproject.toml`` (empty without one)."""
    path = project / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ()
    roots = data.get("tool", {}).get("lors", {}).get("config_roots", [])
    if not isinstance(roots, list):
        return ()
    return tuple(project / str(r) for r in roots if isinstance(r, str) and r)


def trusted_roots(project: Path) -> tuple[Path, ...]:
    """The folders a config may come from, resolved, without duplicates."""
    roots = [project / "configs", HARNESS_ROOT / "configs", *_declared(project)]
    roots += [Path(p) for p in os.environ.get(CONFIG_ROOTS_ENV, "").split(os.pathsep) if p]
    return tuple(dict.fromkeys(r.resolve() for r in roots))


def untrusted_reason(path: Path, project: Path) -> str | None:
    """Why ``path`` may not be loaded as a config, or None when it lies in a trusted root.

    Only the path is resolved (``realpath``): the file itself is not opened.
    """
    real = path.resolve()
    roots = trusted_roots(project)
    if any(real.is_relative_to(root) for root in roots):
        return None
    shown = ", ".join(str(r) for r in roots)
    via = f" (a link to {real})" if real != path.absolute() else ""
    return (
        f"{str(path)!r}{via} is outside the trusted config roots ({shown}); a config is Python "
        "and runs when it is loaded, so it must come from configs/, a folder declared in "
        f"[tool.lors] config_roots of pyproject.toml, or ${CONFIG_ROOTS_ENV}"
    )


def config_path(text: str, where: str, project: Path, problems: Problems) -> Path | None:
    """The config file a spec names, or None after reporting that it lies outside the trusted
    roots. A relative path is taken in the spec's project, else in the harness's checkout when
    only that has it (a spec copied out of the project, beside its run folders, still loads)."""
    given = Path(text)
    path = given if given.is_absolute() else project / given
    if not given.is_absolute() and not path.exists() and (HARNESS_ROOT / given).is_file():
        path = HARNESS_ROOT / given
    why = untrusted_reason(path, project)
    if why:
        problems.add(where, why)
        return None
    return path
