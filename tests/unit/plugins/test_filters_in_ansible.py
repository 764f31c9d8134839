"""The filters inside a real play: values templated by Ansible (tagged, lazy) are handled.

Runs ansible-playbook on localhost with this checkout as the collection
(the `ansible_playbook` fixture).
"""

from __future__ import annotations

PLAY = r"""
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


def test_filters_in_a_play(ansible_playbook) -> None:
    done = ansible_playbook(PLAY)
    assert done.returncode == 0, done.stdout + done.stderr
