"""Specs from strangers: every malformed or hostile spec is refused by each CLI that reads specs
(``launch --dry-run``, ``launch``, ``status``, ``make_tables``) with exit code 2 and one line on
stderr that names the file and the key, no traceback, nothing created in the project, nothing
executed, and well within 5 seconds.

The threat model (docs/harness.md): a spec is data; a config is code and comes from a trusted
root only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.harness.conftest import REPO

SMOKE_LORS = REPO / "configs" / "smoke" / "adamixer_lors_smoke.py"
GOOD = f"""name: hostile
base: {SMOKE_LORS}
default_profile: smoke
profiles:
  smoke:
    overrides: {{train_cfg.max_iters: 4}}
    resources: {{gpus: 0, cpus: 1, mem_gb: 2, timeout_min: 5}}
axes:
  axis: r
  key: model.roi_head.lors_cfg.adaptive_rank
  values: [4, 8]
table: {{title: T, rows: r, columns: metrics, metrics: [bbox_mAP]}}
"""
MARKER = "EXECUTED"


def _evil(folder: Path) -> Path:
    """A config that would leave a marker file beside itself if anything executed it."""
    path = folder / "evil.py"
    path.write_text(f"open({str(folder / MARKER)!r}, 'w').write('ran')\nmodel = dict()\n")
    return path


def _laughs(depth: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, depth)]
    return "{" + ", ".join(lines) + "}"  # 10**9 values once expanded, 200 bytes as text


# (case id, how to write the spec given the folder outside the project, what the line must name)
Case = tuple[str, Callable[[Path], str | bytes], str]
CASES: list[Case] = [
    (
        "base outside the project",
        lambda out: GOOD.replace(str(SMOKE_LORS), str(_evil(out))),
        "base",
    ),
    (
        "base escaping with ..",
        lambda out: GOOD.replace(str(SMOKE_LORS), f"configs/../../{_evil(out).name}"),
        "outside the trusted config roots",
    ),
    (
        "case base outside the project",
        lambda out: GOOD.replace(
            "axes:\n  axis: r\n  key: model.roi_head.lors_cfg.adaptive_rank\n  values: [4, 8]",
            f"axes: {{cases: {{axis: c, items: [{{label: a, overrides: {{}},"
            f" base: {{smoke: {_evil(out)}}}}}]}}}}",
        ).replace("rows: r", "rows: c"),
        "axes.cases.items[0].base.smoke",
    ),
    ("alias expansion", lambda out: GOOD + f"description: {_laughs()}\n", "aliases are expanded"),
    (
        "alias expansion inside an override",
        lambda out: GOOD.replace("{train_cfg.max_iters: 4}", f"{{custom_hooks: {_laughs()}}}"),
        "aliases are expanded",
    ),
    (
        "axes multiplying to millions",
        lambda out: GOOD.replace(
            "axes:\n  axis: r\n  key: model.roi_head.lors_cfg.adaptive_rank\n  values: [4, 8]",
            "axes:\n  grid:\n"
            + "".join(
                f"    - {{axis: a{i}, key: train_cfg.max_iters, values: {list(range(1, 11))}}}\n"
                for i in range(7)
            ),
        ),
        "10,000,000 cells",
    ),
    ("a 2 MB spec", lambda out: GOOD + "# " + "x" * (2 << 20) + "\n", "at most 1,048,576"),
    ("not UTF-8", lambda out: GOOD.encode() + b"# caf\xe9\n", "not UTF-8: byte 0xe9 at offset"),
    ("two documents", lambda out: GOOD + "---\nname: again\n", "a second YAML document"),
    ("a list as a mapping key", lambda out: GOOD + "? [1, 2]\n: 3\n", "a mapping key must be"),
    ("5,000-deep nesting", lambda out: GOOD + "deep: " + "[" * 5000 + "]" * 5000 + "\n", "nesting"),
    (
        "a python tag",
        lambda out: GOOD + "evil: !!python/object/apply:os.system [true]\n",
        "not valid YAML",
    ),
    ("a top-level list", lambda out: "- name: x\n", "must be a mapping"),
    ("an empty file", lambda out: "", "empty"),
    (
        "groups that do not divide the content size",
        lambda out: GOOD.replace("{train_cfg.max_iters: 4}", "{model.roi_head.num_groups: 3}"),
        "profiles.smoke.overrides",
    ),
    (
        "a rank larger than what it factors",
        lambda out: GOOD.replace("values: [4, 8]", "values: [4, 99]"),
        "axes.values[1]",
    ),
    (
        "K per stage of the wrong length",
        lambda out: GOOD.replace(
            "key: model.roi_head.lors_cfg.adaptive_rank\n  values: [4, 8]",
            "key: model.roi_head.lors_cfg.adaptive_groups\n  values: [1, [1, 2, 3, 4]]",
        ),
        "axes.values[1]",
    ),
    (
        "an unknown SLURM profile",
        lambda out: GOOD.replace("    resources:", "    slurm: big-cluster\n    resources:"),
        "profiles.smoke.slurm",
    ),
    (
        "a name ending in a newline",
        lambda out: GOOD.replace("name: hostile", 'name: "hostile\\n"'),
        "name",
    ),
    ("a name with a separator", lambda out: GOOD.replace("name: hostile", "name: ../up"), "name"),
    ("a seed of 2**32", lambda out: GOOD + "seeds: [0, 4294967296]\n", "seeds[1]"),
    ("a negative seed", lambda out: GOOD + "seeds: [-1]\n", "seeds[0]"),
    ("a typo under randomness", lambda out: GOOD + "seed_key: randomness.sede\n", "seed_key"),
    (
        "a NaN memory request",
        lambda out: GOOD.replace("mem_gb: 2", "mem_gb: .nan"),
        "resources.mem_gb",
    ),
    (
        "an infinite memory request",
        lambda out: GOOD.replace("mem_gb: 2", "mem_gb: .inf"),
        "resources.mem_gb",
    ),
    (
        "a typo in resources",
        lambda out: GOOD.replace("mem_gb: 2", "mem_gbs: 2"),
        "resources.mem_gbs",
    ),
    (
        "a typo in the table",
        lambda out: GOOD.replace("metrics: [bbox_mAP]}", "metrics: [bbox_mAP], delat: x}"),
        "table.delat",
    ),
    (
        "a control character in a label",
        lambda out: GOOD.replace("values: [4, 8]", 'values: [4, {label: "a\\tb", value: 8}]'),
        "axes.values[1]",
    ),
    (
        "two labels that make one folder",
        lambda out: GOOD.replace(
            "values: [4, 8]", "values: [{label: 'a b', value: 4}, {label: 'a_b', value: 8}]"
        ),
        "duplicate cell label",
    ),
]


def _write(project: Path, outside: Path, build: Callable[[Path], str | bytes]) -> Path:
    body = build(outside)
    path = project / "sweeps" / "hostile.yaml"
    if isinstance(body, bytes):
        path.write_bytes(body)
    else:
        path.write_text(body, encoding="utf-8")
    return path


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _clis(spec: Path) -> dict[str, Callable[[], int]]:
    from analysis import make_tables
    from harness import launch, status
    from harness.cli import run_cli

    def cli(main: Callable, argv: list[str]) -> Callable[[], int]:
        def call() -> int:
            try:
                run_cli(main, argv)
            except SystemExit as exc:
                return int(exc.code or 0)
            return 0

        return call

    return {
        "launch --dry-run": cli(launch.main, [str(spec), "--dry-run"]),
        "launch": cli(launch.main, [str(spec), "--executor", "debug"]),
        "status": cli(status.main, [str(spec)]),
        "make_tables": lambda: make_tables.main([str(spec)]),
    }


@pytest.mark.parametrize(("build", "key"), [(b, k) for _, b, k in CASES], ids=[c[0] for c in CASES])
def test_refused_by_every_cli(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    build: Callable[[Path], str | bytes],
    key: str,
) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    (project / "sweeps").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'theirs'\n")
    outside.mkdir()
    spec = _write(project, outside, build)
    monkeypatch.chdir(project)  # runs/, outputs/ and data/ would appear here
    monkeypatch.delenv("LORS_CONFIG_ROOTS")  # only the project's and the harness's configs/
    before = _tree(project)
    for name, call in _clis(spec).items():
        start = time.monotonic()
        code = call()
        took = time.monotonic() - start
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert code == 2, f"{name}: exit {code}: {err}"
        assert len(lines) == 1, f"{name}: {err}"
        assert str(spec) in lines[0] and key in lines[0], f"{name}: {lines[0]}"
        assert "Traceback" not in err
        assert took < 5.0, f"{name} took {took:.1f} s"
        assert _tree(project) == before, f"{name} created files"
        assert not (outside / MARKER).exists(), f"{name} executed a config outside the project"


def test_a_symlink_into_configs_is_followed_and_refused(tmp_path: Path) -> None:
    from harness.errors import SpecError
    from harness.spec import load_spec

    project, outside = tmp_path / "project", tmp_path / "outside"
    (project / "configs").mkdir(parents=True)
    (project / "pyproject.toml").write_text("")
    outside.mkdir()
    (project / "configs" / "looks_fine.py").symlink_to(_evil(outside))
    spec = project / "spec.yaml"
    spec.write_text(GOOD.replace(str(SMOKE_LORS), "configs/looks_fine.py"))
    with pytest.raises(SpecError, match=r"a link to .*evil\.py.*outside the trusted config roots"):
        load_spec(spec)
    assert not (outside / MARKER).exists()


def test_declared_roots_are_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A project may keep configs elsewhere when it says so (pyproject.toml or the variable)."""
    from harness.spec import load_spec

    project, extra = tmp_path / "project", tmp_path / "project" / "more_configs"
    extra.mkdir(parents=True)
    (extra / "mine.py").write_text(f"_base_ = [{str(SMOKE_LORS)!r}]\n")
    (project / "pyproject.toml").write_text("[tool.lors]\nconfig_roots = ['more_configs']\n")
    spec = project / "spec.yaml"
    spec.write_text(GOOD.replace(str(SMOKE_LORS), "more_configs/mine.py"))
    assert [c.label for c in load_spec(spec).cells()] == ["r=4", "r=8"]

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "theirs.py").write_text(f"_base_ = [{str(SMOKE_LORS)!r}]\n")
    spec.write_text(GOOD.replace(str(SMOKE_LORS), str(elsewhere / "theirs.py")))
    monkeypatch.setenv("LORS_CONFIG_ROOTS", os.pathsep.join(["/nonexistent", str(elsewhere)]))
    assert len(load_spec(spec).cells()) == 2


def test_unknown_keys_suggest_the_close_match(tmp_path: Path) -> None:
    from harness.errors import SpecError
    from harness.spec import load_spec

    spec = tmp_path / "spec.yaml"
    spec.write_text(GOOD.replace("    resources:", "    resorces:"))
    with pytest.raises(SpecError, match=r"unknown key 'resorces' \(did you mean 'resources'\?\)"):
        load_spec(spec)
