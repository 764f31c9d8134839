# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The metrics_targets filter: each node's Prometheus endpoint as a file_sd target list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: metrics_targets
short_description: Each IDM node's Prometheus endpoint as a Prometheus file_sd target list
version_added: 0.1.0
author: idm_automation maintainers (@idm-automation)
description:
  - Takes one mapping per node and returns the list Prometheus reads from a C(file_sd_configs)
    file, one target group per node, so that every node is scraped directly and not through the
    load balancer (which would mix the nodes' series under one target).
  - Each group holds the node's address and the port of the named listener, and the labels
    C(idm_node) (inventory host), C(idm_node_id), C(__scheme__) (C(https) for a secure listener,
    else C(http)) and C(__metrics_path__) (C(/openidm/metrics/prometheus)), which Prometheus
    applies to the scrape.
positional: listener
options:
  _input:
    description:
      - One mapping per node with C(host), C(address), C(node_id) and C(listeners) (the node's
        listeners with every field filled in, as P(idm_automation.cluster.listener_defaults#filter)
        returns them).
    type: list
    elements: dict
    required: true
  listener:
    description: Name of the listener to scrape; it must be enabled on every node.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Write the scrape targets for Prometheus' file_sd_configs
  ansible.builtin.copy:
    content: "{{ nodes | idm_automation.cluster.metrics_targets('http') | to_nice_json }}"
    dest: /etc/prometheus/targets/idm.json
    mode: "0644"
"""

RETURN = r"""
_value:
  description: One target group per node, in the order given.
  type: list
  elements: dict
  sample:
    - targets: ["10.0.0.11:8080"]
      labels: {idm_node: idm1, idm_node_id: node1, __scheme__: http,
               __metrics_path__: /openidm/metrics/prometheus}
"""

METRICS_PATH = "/openidm/metrics/prometheus"


def _target(node: Mapping[str, Any], listener: str) -> dict[str, Any]:
    host = node.get("host")
    found = [
        item
        for item in node.get("listeners") or []
        if isinstance(item, Mapping) and item.get("name") == listener and item.get("enabled", True)
    ]
    if not found:
        raise AnsibleFilterError(
            f"metrics_targets: {host} has no enabled listener named {listener!r}; set "
            "idm_metrics_listener to one of its enabled idm_listeners"
        )
    address = str(node.get("address") or host)
    if ":" in address and not address.startswith("["):
        address = f"[{address}]"  # an IPv6 address
    return {
        "targets": [f"{address}:{int(found[0]['port'])}"],
        "labels": {
            "idm_node": str(host),
            "idm_node_id": str(node.get("node_id") or ""),
            "__scheme__": "https" if found[0].get("secure") else "http",
            "__metrics_path__": METRICS_PATH,
        },
    }


def metrics_targets(nodes: object, listener: object) -> list[dict[str, Any]]:
    """file_sd target groups for ``nodes``; see DOCUMENTATION."""
    if not isinstance(nodes, Sequence) or isinstance(nodes, (str, bytes)):
        raise AnsibleFilterError("metrics_targets expects a list of node mappings")
    if not isinstance(listener, str) or not listener:
        raise AnsibleFilterError("metrics_targets: the listener name must be a non-empty string")
    return [_target(node, listener) for node in nodes if isinstance(node, Mapping)]


class FilterModule:
    """idm_automation.cluster.metrics_targets"""

    def filters(self) -> dict[str, object]:
        return {"metrics_targets": metrics_targets}
