# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The instance_state filter: the effective state of one /openidm/cluster instance (row C9)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.module_utils.cluster_state import (
    effective_state,
)

DOCUMENTATION = r"""
name: instance_state
short_description: The effective state of an instance of the PingIDM cluster table
version_added: 0.1.0
author: idm_automation maintainers (@idm-automation)
description:
  - Takes one entry of the C(result) list of C(/openidm/cluster?_queryFilter=true) (or the answer
    of C(/openidm/cluster/<id>)) and returns its state, safe under both shapes IDM versions use
    for a node in recovery.
  - Newer versions show the top-level C(state) C(processing-down); older ones keep C(state)
    C(running) and put C(state) C(processing-down) in a C(recovery) object. Both give
    C(processing-down) here. An instance in recovery is never C(running).
  - A C(recovery) object without a C(state) of its own counts as recovery in progress while it
    names a C(recoveringInstanceId) and has no C(recoveryFinished).
  - Other states are returned as IDM gives them (C(down), ...); C(unknown) when there is none.
positional: _input
options:
  _input:
    description: One instance as IDM lists it.
    type: dict
    required: true
seealso:
  - plugin: idm_automation.cluster.running_instances
    plugin_type: filter
  - module: idm_automation.cluster.idm_cluster_info
"""

EXAMPLES = r"""
- name: Is node2 effectively running?
  ansible.builtin.debug:
    msg: "{{ cluster.json.result | selectattr('instanceId', 'equalto', 'node2') | first
             | idm_automation.cluster.instance_state }}"

# {"instanceId": "node2", "state": "processing-down"}                          -> processing-down
# {"instanceId": "node2", "state": "running", "recovery": {"state": "processing-down"}}
#                                                                              -> processing-down
# {"instanceId": "node2", "state": "running"}                                  -> running
"""

RETURN = r"""
_value:
  description: C(running), C(processing-down), C(down), another state IDM reported, or C(unknown).
  type: str
"""


def instance_state(instance: Any) -> str:
    """Effective state of ``instance`` or raise AnsibleFilterError when it is not a mapping."""
    if not isinstance(instance, Mapping):
        raise AnsibleFilterError(
            f"instance_state expects one instance of the cluster table (a dict), got "
            f"{type(instance).__name__}"
        )
    return effective_state(instance)


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"instance_state": instance_state}
