# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The restart_blockers filter: why taking one node down now would leave the cluster unserved."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.module_utils.cluster_state import (
    RUNNING,
    instance_list,
    instance_states,
)

DOCUMENTATION = r"""
name: restart_blockers
short_description: The reasons not to take a PingIDM node down for a rolling restart now
version_added: 0.1.0
author: idm_automation maintainers (@idm-automation)
description:
  - Takes what C(roles/idm/tasks/restart/check_peers.yml) read before draining one node (the
    target) and returns one sentence per reason not to take it down. An empty list means every
    other node of the cluster is healthy, so the cluster keeps serving while the target restarts.
  - Every other node (peer) must be effectively C(running) in the cluster view the target answers
    (C(/openidm/cluster), effective state as in
    P(idm_automation.cluster.instance_state#filter), contract row C9), and C(UP) in every HAProxy
    that has it as a server. C(MAINT), C(DRAIN), C(DOWN), transitional states such as C(UP 1/3), or
    a missing server are not C(UP).
  - A cluster of one node is always refused (restarting it is an outage), and so is a cluster view
    or an HAProxy statistics page that cannot be read (the state of the peers is unknown).
  - Each sentence names the host, the problem and the fix.
positional: _input
options:
  _input:
    description:
      - C(target) is the inventory host to restart.
      - C(peers) maps every other host of the node group to its node ID (C(instanceId)).
      - C(cluster) is the C(result) list of C(/openidm/cluster?_queryFilter=true) as the target
        answered it (or the whole answer), or null when it could not be read; C(cluster_error) then
        says why.
      - C(loadbalancers) maps each load balancer host to a mapping of server name to HAProxy status
        of its C(idm_http) backend, or to null when its statistics could not be read.
      - C(backends) maps each load balancer host to the servers it balances (C(idm_lb_backends)).
    type: dict
    required: true
seealso:
  - module: idm_automation.cluster.idm_cluster_info
  - plugin: idm_automation.cluster.instance_state
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Refuse to take the last healthy nodes down
  ansible.builtin.assert:
    that: blockers | length == 0
    fail_msg: "Refusing to restart {{ inventory_hostname }}: {{ blockers | join(' ') }}"
  vars:
    blockers: >-
      {{ {'target': inventory_hostname, 'peers': {'idm2': 'idm2', 'idm3': 'idm3'},
          'cluster': cluster.instances, 'loadbalancers': {'lb1': {'idm2': 'UP', 'idm3': 'UP'}},
          'backends': {'lb1': ['idm1', 'idm2', 'idm3']}}
         | idm_automation.cluster.restart_blockers }}
"""

RETURN = r"""
_value:
  description: The reasons, one sentence each (host, problem, fix); empty when the restart is safe.
  type: list
  elements: str
"""

START = "start it (ansible-playbook -i <inventory> idm_automation.cluster.start)"
RECOVER = "see 'A rolling restart stopped' in docs/troubleshooting.md"


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise AnsibleFilterError(
            f"restart_blockers: '{name}' must be a mapping, got {type(value).__name__}"
        )
    return value


def restart_blockers(data: Any) -> list[str]:
    """The reasons not to take ``data['target']`` down now; empty when it is safe."""
    if not isinstance(data, Mapping) or not data.get("target"):
        raise AnsibleFilterError("restart_blockers expects a mapping with at least 'target'")
    target = str(data["target"])
    peers = {
        str(host): str(node_id) for host, node_id in _mapping(data.get("peers"), "peers").items()
    }
    peers.pop(target, None)
    if not peers:
        return [
            f"{target} is the only node of the cluster: restarting it stops the service for every "
            "client. For a planned outage run the stop and start playbooks "
            "(idm_automation.cluster.stop, then idm_automation.cluster.start) instead."
        ]

    reasons: list[str] = []
    cluster = data.get("cluster")
    if cluster is None:
        why = data.get("cluster_error") or "no answer"
        reasons.append(
            f"{target} did not give its cluster view (/openidm/cluster: {why}), so whether "
            f"the other nodes ({', '.join(peers)}) are running is unknown. Check that "
            f"{target} is ready and that idm_admin_password is the cluster's admin password, "
            "then run the rolling restart again."
        )
    else:
        states = instance_states(instance_list(cluster))
        for host, node_id in peers.items():
            state = states.get(node_id)
            if state == RUNNING:
                continue
            seen = f"is {state} in" if state else "is missing from"
            reasons.append(
                f"{host} (node ID {node_id}) {seen} the cluster view of {target}: restarting "
                f"{target} now would leave the cluster without that node as well. Fix {host} "
                f"first: {START}, or if it left for good take it out "
                "(idm_automation.cluster.remove_node) and delete it from idm_nodes; then run the "
                "rolling restart again."
            )

    backends = _mapping(data.get("backends"), "backends")
    for lb, servers in _mapping(data.get("loadbalancers"), "loadbalancers").items():
        served = [str(s) for s in (backends.get(lb) or [])]
        ours = [host for host in peers if host in served]
        if not ours:
            continue
        if servers is None:
            reasons.append(
                f"{lb}: the HAProxy statistics could not be read, so whether "
                f"{', '.join(ours)} are UP there is unknown. Make HAProxy on {lb} answer "
                "(idm_lb_stats_port) or deploy it (idm_automation.cluster.site), then run the "
                "rolling restart again."
            )
            continue
        servers = _mapping(servers, f"loadbalancers.{lb}")
        for host in ours:
            status = servers.get(host)
            if status == "UP":
                continue
            if status is None:
                problem = f"is not a server of the idm_http backend of HAProxy on {lb}"
                fix = "run idm_automation.cluster.site so the loadbalancer role writes it"
            elif str(status).startswith("MAINT") or str(status) == "DRAIN":
                problem = f"is {status} (disabled or drained) in HAProxy on {lb}"
                fix = f"if an interrupted rolling restart left it so, {RECOVER}"
            else:
                problem = f"is {status} in HAProxy on {lb} (its health check does not pass)"
                fix = f"make it answer /openidm/health/ready ({START} if it is stopped)"
            reasons.append(
                f"{host} {problem}: restarting {target} now would leave fewer nodes serving. "
                f"Fix: {fix}; then run the rolling restart again."
            )
    return reasons


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"restart_blockers": restart_blockers}
