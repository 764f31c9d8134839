# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster rules of idm_automation.cluster, as pure Python (no I/O, no Ansible imports).

- ``registry``: the one list of rules (id, number, name, family, check, fix) and ``check_cluster``,
  which the ``cluster_invariants`` filter, the docs test and the rule tests all read.
- ``identity``, ``repository``, ``secrets``, ``configuration``, ``network``, ``topology``: one
  module per rule family, each holding the checks of its rules.
- ``context``: the prepared description every check works on, and the helpers that report
  missing or ill-typed fields; ``values``: type predicates and the safe rendering of values.
- ``common``: node IDs and secrets majorities, shared with the ``node_id`` and ``secrets_source``
  filters (and re-exported here, where they lived before this became a package).
"""

from __future__ import annotations

from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.common import (
    NODE_ID_MAX_LENGTH,
    NODE_ID_PATTERN,
    NODE_ID_REGEX,
    SECRET_FILE_FACTS,
    Signature,
    checksum,
    derive_node_id,
    describe_groups,
    group_secrets,
    holds_key_material,
    is_valid_node_id,
    key_holders,
    name_list,
    normalise_node_id,
    secrets_signature,
    strict_majority,
)

__all__ = [
    "NODE_ID_MAX_LENGTH",
    "NODE_ID_PATTERN",
    "NODE_ID_REGEX",
    "SECRET_FILE_FACTS",
    "Signature",
    "checksum",
    "derive_node_id",
    "describe_groups",
    "group_secrets",
    "holds_key_material",
    "is_valid_node_id",
    "key_holders",
    "name_list",
    "normalise_node_id",
    "secrets_signature",
    "strict_majority",
]
