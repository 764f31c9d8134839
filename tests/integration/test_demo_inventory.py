"""docs/examples/inventory-demo.yml stays true to the demo it targets: the hosts, groups and
addresses of the default scenario's containers and every variable of the scenario's inventory,
and `ansible-inventory` reads it as Ansible would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "docs" / "examples" / "inventory-demo.yml"
SCENARIO = REPO / "molecule" / "default" / "molecule.yml"
SCENARIO_VARS = REPO / "molecule" / "resources" / "inventory" / "group_vars" / "all" / "cluster.yml"
# Read from the environment or derived in the scenario; the demo inventory spells them its own way.
DIFFERENT_BY_DESIGN = {"idm_repo_host", "idm_repo_admin_password", "test_postgres_admin_password"}


def _inventory() -> dict:
    env = dict(
        os.environ,
        IDM_STANDIN_ZIP="/nonexistent/openidm-standin-8.1.0.zip",
        IDM_STANDIN_LITERALS_ZIP="/nonexistent/c11-literals/openidm-standin-8.1.0.zip",
    )
    out = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(DEMO), "--list"],
        capture_output=True, text=True, check=True, env=env, timeout=120,
    )  # fmt: skip
    return json.loads(out.stdout)


def test_hosts_groups_and_addresses_match_the_demo_scenario():
    platforms = yaml.safe_load(SCENARIO.read_text())["platforms"]
    inventory = _inventory()
    hostvars = inventory["_meta"]["hostvars"]
    assert set(hostvars) == {p["name"] for p in platforms}
    for platform in platforms:
        name = platform["name"]
        assert hostvars[name]["ansible_host"] == platform["networks"][0]["ipv4_address"], name
        for group in platform["groups"]:
            if group.startswith("test_"):
                continue
            assert name in inventory[group]["hosts"], (name, group)


def test_every_scenario_variable_is_set_alike():
    scenario_vars = yaml.safe_load(SCENARIO_VARS.read_text())
    demo_vars = yaml.safe_load(DEMO.read_text())["all"]["children"]["idm_cluster"]["vars"]
    for key, value in scenario_vars.items():
        if key in DIFFERENT_BY_DESIGN:
            continue
        assert key in demo_vars, key
        assert demo_vars[key] == value, key
    assert demo_vars["idm_repo_host"] == "pg1"
    assert demo_vars["idm_repo_admin_password"] == scenario_vars["test_postgres_admin_password"]
