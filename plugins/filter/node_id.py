# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node_id filter: derive a valid PingIDM node ID from a host name."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants import (
    NODE_ID_REGEX,
    derive_node_id,
)

DOCUMENTATION = r"""
name: node_id
short_description: Derive a valid PingIDM node ID from a host name
version_added: 0.1.0
author: idm_automation maintainers (@idm-automation)
description:
  - Turns a name, usually C(inventory_hostname), into a value that can be used as
    C(openidm.node.id) and that passes rule 1 (C(node-id)) of the
    P(idm_automation.cluster.cluster_invariants#filter) filter.
  - The name is NFKC-normalised first, so full-width letters and digits become their ASCII forms.
  - Every run of characters outside C([A-Za-z0-9._-]) becomes a single C(-), repeated C(-) are
    collapsed, leading characters that are not ASCII letters or digits are dropped, and the result
    is cut to 64 characters.
  - "Case is preserved: C(IDM1) stays C(IDM1). Two inventory names that differ only in case give
    two IDs that rule 1 of C(cluster_invariants) rejects as a clash, because people and tools
    (host names, some database collations) do not tell them apart."
  - The result always matches C(^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$). When nothing valid remains
    (for example a name made only of punctuation or non-Latin letters) the filter fails; set
    C(idm_node_id) for that host explicitly.
positional: _input
options:
  _input:
    description: The name to derive the node ID from, usually C(inventory_hostname).
    type: str
    required: true
seealso:
  - plugin: idm_automation.cluster.cluster_invariants
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Use the explicit node ID, or derive one from the inventory name
  ansible.builtin.set_fact:
    __idm_node_id: >-
      {{ idm_node_id if idm_node_id | default('') | length > 0
         else inventory_hostname | idm_automation.cluster.node_id }}

# 'idm1.example.com'  -> 'idm1.example.com'
# 'IDM_1 (rack 4)'    -> 'IDM_1-rack-4-'
# '_idm1'             -> 'idm1'
# '#!'                -> fails: no valid character left
"""

RETURN = r"""
_value:
  description:
    - A node ID of 1 to 64 characters matching C(^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$).
  type: str
"""


def node_id(name: object) -> str:
    """Derive a node ID from ``name`` or raise AnsibleFilterError."""
    if not isinstance(name, str):
        raise AnsibleFilterError(
            f"node_id expects a host name string, got {type(name).__name__}; "
            "set idm_node_id explicitly"
        )
    derived = derive_node_id(name)
    if derived is None:
        raise AnsibleFilterError(
            f"node_id: no valid node ID can be derived from {str(name)[:80]!r} (a node ID must "
            f"match {NODE_ID_REGEX}); set idm_node_id for this host explicitly"
        )
    return derived


class FilterModule:
    """idm_automation.cluster.node_id"""

    def filters(self) -> dict[str, object]:
        return {"node_id": node_id}
