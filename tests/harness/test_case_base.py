"""A case that starts from its own config in a profile (``base: {profile: config}``, Table 3):
the cells, the override checks, the plan and the job payload follow that config."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import SpecError
from harness.plan import make_plan
from harness.spec import load_spec
from harness.submit import payload
from tests.harness.conftest import REPO, TINY_AXIS, TINY_DIR, TINY_SPEC, write_spec

WIDE = TINY_DIR / "tiny_wide.py"


PLAIN = "{label: plain, overrides: {}}"
LR_AXIS = "{axis: lr, key: optim_wrapper.optimizer.lr, values: [0.1, 0.2]}"


def wide(overrides: str = "{}", profiles: tuple[str, ...] = ("paper",)) -> str:
    """A case ``wide`` that starts from tiny_wide.py in ``profiles``."""
    bases = ", ".join(f"{p}: {WIDE}" for p in profiles)
    return f"{{label: wide, overrides: {overrides}, base: {{{bases}}}}}"


def _spec(tmp_path: Path, items: str, extra_axis: bool = False) -> Path:
    cases = f"{{cases: {{axis: setting, items: [{items}]}}}}"
    axes = f"{{grid: [{cases}, {LR_AXIS}]}}" if extra_axis else cases
    return write_spec(tmp_path, TINY_SPEC.replace(TINY_AXIS, f"axes: {axes}\n"))


def test_cells_start_from_the_case_base_in_the_named_profile_only(tmp_path: Path) -> None:
    spec = load_spec(_spec(tmp_path, f"{PLAIN}, {wide()}", extra_axis=True))
    paper = {c.label: c.base for c in spec.cells("paper")}
    assert paper == {
        "setting=plain,lr=0.1": None,
        "setting=plain,lr=0.2": None,
        "setting=wide,lr=0.1": WIDE,
        "setting=wide,lr=0.2": WIDE,
    }
    assert all(c.base is None for c in spec.cells("smoke"))


def test_overrides_are_checked_against_the_config_the_case_starts_from(tmp_path: Path) -> None:
    good = (
        f"{{label: wide, overrides: {{extra_setting: 2}}, base: {{paper: {WIDE}, smoke: {WIDE}}}}}"
    )
    assert load_spec(_spec(tmp_path, good)).cells("paper")[0].overrides == {"extra_setting": 2}
    only_paper = wide("{extra_setting: 2}")
    with pytest.raises(SpecError) as err:  # in smoke the case starts from the tiny config
        load_spec(_spec(tmp_path, only_paper))
    assert list(err.value.keys) == ["axes.cases.items[0].overrides.extra_setting"]
    wrong_type = wide("{extra_setting: one}", ("paper", "smoke"))
    with pytest.raises(SpecError) as err:
        load_spec(_spec(tmp_path, wrong_type))
    assert list(err.value.keys) == ["axes.cases.items[0].overrides.extra_setting"]


@pytest.mark.parametrize(
    ("base", "key"),
    [
        ("{paper: configs/nope.py}", "axes.cases.items[0].base.paper"),
        (f"{{papr: {WIDE}}}", "axes.cases.items[0].base.papr"),
        (str(WIDE), "axes.cases.items[0].base"),
    ],
    ids=["missing file", "unknown profile", "not a mapping"],
)
def test_bad_case_base_names_the_key(tmp_path: Path, base: str, key: str) -> None:
    with pytest.raises(SpecError) as err:
        load_spec(_spec(tmp_path, f"{{label: a, overrides: {{}}, base: {base}}}"))
    assert list(err.value.keys) == [key]


def test_only_one_cases_block_may_set_bases(tmp_path: Path) -> None:
    one = f"{{cases: {{axis: a, items: [{{label: x, overrides: {{}}, base: {{paper: {WIDE}}}}}]}}}}"
    two = one.replace("axis: a", "axis: b")
    text = TINY_SPEC.replace(TINY_AXIS, f"axes: {{grid: [{one}, {two}]}}\n")
    with pytest.raises(SpecError) as err:
        load_spec(write_spec(tmp_path, text))
    assert "axes.grid[1].cases" in err.value.keys


def test_plan_and_payload_use_the_case_config(tmp_path: Path) -> None:
    spec = load_spec(_spec(tmp_path, f"{PLAIN}, {wide()}"))
    plan = make_plan(spec, "paper", tmp_path / "runs")
    plain, own = plan.cells
    assert plain.config["model"]["hidden"] == 8 and own.config["model"]["hidden"] == 16
    assert own.config["train_cfg"]["max_iters"] == 40  # the profile's overrides still apply
    assert plain.run_id != own.run_id
    assert plan.profile.base is not None
    assert payload(plan, plain, "debug", "disabled").base == str(plan.profile.base.resolve())
    assert payload(plan, own, "debug", "disabled").base == str(WIDE.resolve())


def test_table3_paper_cells_start_from_their_backbone_configs() -> None:
    spec = load_spec(REPO / "sweeps" / "table3.yaml")
    plan = make_plan(spec, "paper", Path("/nonexistent-runs"))
    backbones = {
        pc.cell.coords["setting"]: (
            pc.config["model"]["backbone"]["type"],
            pc.config["model"]["backbone"].get("depth"),
            pc.config["model"]["rpn_head"]["num_queries"],
        )
        for pc in plan.cells
    }
    assert backbones == {
        "R50 100q": ("ResNet", 50, 100),
        "R50 300q": ("ResNet", 50, 300),
        "R101 300q": ("ResNet", 101, 300),
        "Swin-S 300q": ("SwinTransformer", None, 300),
    }
    assert len({pc.run_id for pc in plan.cells}) == 8
