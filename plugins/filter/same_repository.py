# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The same_repository filter: whether two repository connections lead to one database."""

from __future__ import annotations

from typing import Any

from ansible_collections.idm_automation.cluster.plugins.module_utils.repository_identity import (
    same_repository as _same,
)

DOCUMENTATION = r"""
name: same_repository
short_description: Whether two PostgreSQL repository connections lead to the same database
version_added: 0.1.0
author: idm_automation maintainers (@idm-automation)
description:
  - Compares two repository connections by what they resolve to, not by their text. They are the
    same repository when port and database are equal and the hosts are the same name (case and a
    final dot ignored) or share at least one resolved address, so C(pg1), C(pg1.example.com) and
    C(10.0.0.5) are one server when both names resolve to 10.0.0.5.
  - A connection is a dict with C(host), C(port), C(database) and optionally C(addresses) (what
    the host resolves to on the node), or the membership record's string C(host:port/database).
  - A connection that cannot be read is never the same as another one (a change, the safe answer).
  - The invariants (rule 2 C(one-repository)) use the same helper, so preflight and the stop phase
    agree on what a repository change is.
positional: _input, other
options:
  _input:
    description: The deployed connection (the membership record).
    type: raw
    required: true
  other:
    description: The configured connection.
    type: raw
    required: true
seealso:
  - plugin: idm_automation.cluster.cluster_invariants
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Did the repository change?
  ansible.builtin.debug:
    msg: "{{ not (recorded | idm_automation.cluster.same_repository(configured)) }}"
  vars:
    recorded: {host: pg1, port: 5432, database: openidm, addresses: [10.0.0.5]}
    configured: {host: pg1.example.com, port: 5432, database: openidm, addresses: [10.0.0.5]}

# "pg1:5432/openidm" vs {host: 10.0.0.5, port: 5432, database: openidm}     -> false (unresolved)
# {host: pg1, ..., addresses: [10.0.0.5]} vs {host: 10.0.0.5, ...}         -> true
# {host: pg1, port: 5432, database: openidm} vs {host: PG1., port: 5432, database: openidm} -> true
# {host: pg1, port: 5432, database: openidm} vs {host: pg1, port: 5432, database: idm} -> false
"""

RETURN = r"""
_value:
  description: C(true) when both connections lead to one database.
  type: bool
"""


def same_repository(first: Any, other: Any) -> bool:
    """True when ``first`` and ``other`` lead to the same repository database."""
    return _same(first, other)


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"same_repository": same_repository}
