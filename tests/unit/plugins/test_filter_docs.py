"""The filters' DOCUMENTATION, EXAMPLES and RETURN parse and are complete; ansible-doc renders."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible_collections.idm_automation.cluster.plugins.filter import (
    backup_problems,
    cluster_invariants,
    instance_state,
    node_id,
    restart_blockers,
    running_instances,
    same_repository,
    secrets_source,
    secrets_stores,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
PLUGINS = {
    "backup_problems": backup_problems,
    "cluster_invariants": cluster_invariants,
    "instance_state": instance_state,
    "node_id": node_id,
    "restart_blockers": restart_blockers,
    "running_instances": running_instances,
    "same_repository": same_repository,
    "secrets_source": secrets_source,
    "secrets_stores": secrets_stores,
}


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_docs_parse_and_are_complete(name: str) -> None:
    module = PLUGINS[name]
    doc = yaml.safe_load(module.DOCUMENTATION)
    returned = yaml.safe_load(module.RETURN)
    yaml.safe_load(module.EXAMPLES)
    assert doc["name"] == name
    assert str(doc["version_added"]) == "0.1.0"
    assert doc["short_description"] and doc["description"]
    assert doc["positional"].split(",")[0].strip() == "_input"
    assert doc["options"]["_input"]["required"] is True
    for option in doc["positional"].split(","):
        assert option.strip() in doc["options"]
    assert "_value" in returned and returned["_value"]["description"]
    assert name in module.EXAMPLES
    assert module.FilterModule().filters().keys() == {name}


def test_cluster_invariants_docs_list_every_rule() -> None:
    doc = yaml.safe_load(cluster_invariants.DOCUMENTATION)
    text = "\n".join(doc["description"])
    numbers = {int(n) for n in re.findall(r"^Rule (\d+) C\(", text, flags=re.MULTILINE)}
    assert numbers == set(cluster_invariants.RULES.values()) == set(range(1, 15))
    for slug, number in cluster_invariants.RULES.items():
        assert f"Rule {number} C({slug})" in text


def _installed_collections() -> Path | None:
    configured = os.environ.get("ANSIBLE_COLLECTIONS_PATH")
    candidates = [Path(p) for p in configured.split(os.pathsep) if p] if configured else []
    candidates.append(REPO_ROOT / ".cache" / "collections")
    for path in candidates:
        plugin = path / "ansible_collections/idm_automation/cluster/plugins/filter"
        if (plugin / "cluster_invariants.py").is_file():
            return path
    return None


def test_ansible_doc_renders_the_filters() -> None:
    collections = _installed_collections()
    if collections is None:
        pytest.skip("idm_automation.cluster is not installed (run `make collection`)")
    ansible_doc = shutil.which("ansible-doc", path=str(Path(sys.executable).parent))
    if ansible_doc is None:
        pytest.skip("ansible-doc is not installed next to this Python")
    names = [f"idm_automation.cluster.{name}" for name in sorted(PLUGINS)]
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections), "ANSIBLE_NOCOLOR": "1"}
    done = subprocess.run(
        [ansible_doc, "-t", "filter", *names],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "[WARNING]" not in done.stderr, done.stderr
    for name in names:
        assert f"FILTER {name}" in done.stdout
    for number in range(1, 13):
        assert f"Rule {number} " in done.stdout
    assert "RETURN VALUES" in done.stdout and "nodes_in_order" in done.stdout
