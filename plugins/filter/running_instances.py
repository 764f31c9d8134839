# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The running_instances filter: IDs of the instances effectively running (row C9)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.module_utils.cluster_state import (
    instance_list,
)
from ansible_collections.idm_automation.cluster.plugins.module_utils.cluster_state import (
    running_instances as _running,
)

DOCUMENTATION = r"""
name: running_instances
short_description: The IDs of the PingIDM cluster instances that are effectively running
version_added: 0.1.0
author: idm_automation maintainers (@idm-automation)
description:
  - Takes the C(result) list of C(/openidm/cluster?_queryFilter=true) (or the whole answer, a
    dict with C(result)) and returns the C(instanceId) of every instance whose effective state is
    C(running), in the order listed.
  - The effective state is that of P(idm_automation.cluster.instance_state#filter). An instance
    in recovery is not running, whether IDM shows it in the top-level C(state) or in a
    C(recovery) object (contract row C9).
positional: _input
options:
  _input:
    description: The instances, or the cluster query answer holding them under C(result).
    type: raw
    required: true
seealso:
  - plugin: idm_automation.cluster.instance_state
    plugin_type: filter
  - module: idm_automation.cluster.idm_cluster_info
"""

EXAMPLES = r"""
- name: Name the nodes that are not running
  ansible.builtin.debug:
    msg: "{{ expected_ids | difference(cluster.json | idm_automation.cluster.running_instances) }}"
"""

RETURN = r"""
_value:
  description: The instance IDs, in the order IDM listed them.
  type: list
  elements: str
"""


def running_instances(instances: Any) -> list[str]:
    """Instance IDs effectively running, or raise AnsibleFilterError on other input."""
    if not isinstance(instances, (list, tuple, Mapping)):
        raise AnsibleFilterError(
            "running_instances expects the cluster query answer or its result list, got "
            f"{type(instances).__name__}"
        )
    return _running(instance_list(instances))


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"running_instances": running_instances}
