"""The molecule platforms are what they were before they shared one definition per scenario.

Each ``molecule/*/molecule.yml`` is loaded the way molecule loads it (environment interpolation
with molecule's own ``Interpolator``, then ``molecule.util.safe_load``, which resolves YAML anchors
and ``<<`` merge keys) and its effective ``platforms`` list is compared, field by field, with
``molecule_platforms.json``: the lists as they were when every platform was written out in full.
A platform that is meant to change changes the file and this record together.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from molecule import interpolation, util

REPO = Path(__file__).resolve().parents[3]
EXPECTED = json.loads((Path(__file__).with_name("molecule_platforms.json")).read_text())
SCENARIOS = sorted(p.parent.name for p in (REPO / "molecule").glob("*/molecule.yml"))


def effective_config(scenario: str, env: dict[str, str]) -> dict[str, Any]:
    """The scenario's molecule.yml as molecule reads it, interpolated with ``env``."""
    text = (REPO / "molecule" / scenario / "molecule.yml").read_text()
    interpolator = interpolation.Interpolator(interpolation.TemplateWithDefaults, env)
    # molecule keeps MOLECULE_* references for a second pass; none appear in the platforms.
    config: dict[str, Any] = util.safe_load(interpolator.interpolate(text, "MOLECULE_"))
    return config


def test_every_scenario_is_recorded() -> None:
    assert sorted(EXPECTED) == SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_platforms_unchanged(scenario: str) -> None:
    platforms = effective_config(scenario, {})["platforms"]
    assert [p["name"] for p in platforms] == [p["name"] for p in EXPECTED[scenario]]
    for actual, expected in zip(platforms, EXPECTED[scenario], strict=True):
        assert actual == expected, actual["name"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_image_follows_the_environment(scenario: str) -> None:
    platforms = effective_config(scenario, {"IDM_TEST_IMAGE": "other/image:tag"})["platforms"]
    assert {p["image"] for p in platforms} == {"other/image:tag"}
