"""The filters inside a real play: values templated by Ansible (tagged, lazy) are handled.

Runs ansible-playbook against the installed collection (`make collection`); skipped otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]

PLAYBOOK = r"""
- hosts: localhost
  gather_facts: false
  vars:
    port_http: "8080"
    node: &node
      node_id_source: boot_properties
      jvm_options: ["-Xms1g", "-Xmx1g"]
      version: "{{ '8.1.0' | string }}"
      cluster:
        enabled: "{{ 'yes' | bool }}"
        instanceTimeout: "{{ '30000' | int }}"
        instanceRecoveryTimeout: 30000
        instanceCheckInInterval: 5000
        instanceCheckInOffset: 0
      repository: {host: pg1, port: "{{ 5432 }}", database: openidm, user: openidm,
                   datasource_sha256: null}
      ports: {http: "{{ port_http | int }}", https: 8443, mutualauth: 8444}
      listeners: [{name: http, port: 8080, secure: false, enabled: true, mutual_auth: false}]
      secrets: {mode: bootstrap}
      tls: {public_hostname: idm.example.com, certificate_names: null, clients_use_tls: false}
      config: {repo_enabled: true, fileinstall_enabled: false}
      scheduler: {execute_persistent: true, schedules: [{name: reconcile, persisted: true}]}
      standby: false
    description:
      nodes:
        idm1: {<<: *node, node_id: "{{ 'idm1' | idm_automation.cluster.node_id }}", machine: m1}
        idm2: {<<: *node, node_id: "{{ 'IDM1' }}", machine: m2}
      bootstrap_node: idm1
      facts: {idm1: {keystore_sha256: a}, idm2: {keystore_sha256: a}}
    violations: "{{ description | idm_automation.cluster.cluster_invariants }}"
  tasks:
    - name: Only the node ID clash is reported
      ansible.builtin.assert:
        that:
          - violations | length == 1
          - violations[0].rule == 'node-id'
          - violations[0].hosts == ['idm1', 'idm2']
        fail_msg: "{{ violations | to_json }}"
    - name: The earliest majority holder is chosen
      ansible.builtin.assert:
        that: description.facts | idm_automation.cluster.secrets_source(['idm2', 'idm1']) == 'idm2'
"""


def _installed_collections() -> Path | None:
    configured = os.environ.get("ANSIBLE_COLLECTIONS_PATH")
    candidates = [Path(p) for p in configured.split(os.pathsep) if p] if configured else []
    candidates.append(REPO_ROOT / ".cache" / "collections")
    for path in candidates:
        plugin = path / "ansible_collections/idm_automation/cluster/plugins/filter"
        if (plugin / "cluster_invariants.py").is_file():
            return path
    return None


def test_filters_in_a_play(tmp_path: Path) -> None:
    collections = _installed_collections()
    if collections is None:
        pytest.skip("idm_automation.cluster is not installed (run `make collection`)")
    playbook = shutil.which("ansible-playbook", path=str(Path(sys.executable).parent))
    if playbook is None:
        pytest.skip("ansible-playbook is not installed next to this Python")
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
    }
    done = subprocess.run(
        [playbook, "-i", "localhost,", "-c", "local", str(tmp_path / "play.yml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
