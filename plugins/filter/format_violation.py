"""Filter that renders one cluster invariant violation as a readable line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DOCUMENTATION = r"""
name: format_violation
short_description: Render a cluster invariant violation as one readable line
version_added: 0.1.0
description:
  - Turns one item of the list returned by P(idm_automation.cluster.cluster_invariants#filter) into
    one line for C(fail) and C(debug) messages - severity, rule number and name, the message (which
    names the hosts) and the fix.
options:
  _input:
    description: One violation (C(rule), C(number), C(severity), C(hosts), C(message), C(fix)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse the cluster with every violation listed
  ansible.builtin.fail:
    msg: "{{ violations | map('idm_automation.cluster.format_violation') | list }}"
"""

RETURN = r"""
_value:
  description: The violation as one line.
  type: str
"""


def format_violation(violation: Mapping[str, Any]) -> str:
    """One line naming severity, rule, problem (the message names the hosts) and fix."""
    head = f"[{violation.get('severity', 'error')} rule {violation.get('number', '?')} "
    head += f"{violation.get('rule', '?')}] {violation.get('message', '')}"
    fix = violation.get("fix")
    return f"{head} Fix: {fix}" if fix else head


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"format_violation": format_violation}
