# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secrets_source filter: pick the node whose keystore, truststore and secrets.json win."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants import (
    describe_groups,
    group_secrets,
    strict_majority,
)

DOCUMENTATION = r"""
name: secrets_source
short_description: Pick the node whose keystore, truststore and secrets.json the cluster keeps
version_added: 0.1.0
author: idm_automation maintainers (@idm-automation)
description:
  - Every node of a PingIDM cluster must hold the same keystore, truststore and
    C(conf/secrets.json). When live nodes disagree, this filter names the node to copy them from.
  - A node's I(signature) is the triple of its C(keystore_sha256), C(truststore_sha256) and
    C(secrets_json_sha256) facts (a missing file counts as its own value). Only nodes that hold
    a keystore take part (C(secrets.json) ships with the distribution, so it proves nothing); the
    others simply receive the files. The same helper (C(key_holders) in the invariants package)
    decides this for rule 4 of P(idm_automation.cluster.cluster_invariants#filter).
  - Returns a host of the signature held by a strict majority (more than half) of the nodes that
    have files, preferring the earliest one in O(nodes_in_order).
  - Returns C(None) when no node holds a keystore yet (a new cluster).
  - Fails, naming the groups of hosts that disagree, when no signature has a strict majority
    (for example 1 against 1). Copying would then destroy key material that data in the
    repository may depend on; the operator must choose the authoritative node.
  - Uses the same rule as rule 4 (C(one-keystore)) of
    P(idm_automation.cluster.cluster_invariants#filter), so a preflight that passed (with at most
    a warning) never makes this filter fail.
positional: _input, nodes_in_order
options:
  _input:
    description:
      - Facts gathered from live nodes, keyed by host name. Each value may hold
        C(keystore_sha256), C(truststore_sha256) and C(secrets_json_sha256) (hex strings).
      - Hosts that are absent, or whose entry is not a dictionary, have no files.
    type: dict
    required: true
  nodes_in_order:
    description:
      - The cluster's hosts in inventory order, usually C(groups['idm_nodes']).
      - Only these hosts are considered; the order breaks ties inside the majority.
    type: list
    elements: str
    required: true
seealso:
  - plugin: idm_automation.cluster.cluster_invariants
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Choose the node to copy the cluster's keystore, truststore and secrets.json from
  ansible.builtin.set_fact:
    __idm_secrets_source: >-
      {{ __idm_secret_facts | idm_automation.cluster.secrets_source(groups['idm_nodes']) }}
  run_once: true

# facts: {idm1: {keystore_sha256: a, ...}, idm2: {keystore_sha256: b, ...},
#         idm3: {keystore_sha256: b, ...}}
# -> 'idm2' (idm2 and idm3 agree; idm2 comes first in nodes_in_order)
# facts: {} -> None
# facts: {idm1: {keystore_sha256: a}, idm2: {keystore_sha256: b}} -> fails
"""

RETURN = r"""
_value:
  description:
    - The host to copy the files from, or C(None) when no node has any of them.
  type: str
"""


def secrets_source(facts: object, nodes_in_order: object) -> str | None:
    """Host of the strict-majority secrets signature, earliest first; None when no files."""
    hosts = _ordered_hosts(nodes_in_order)
    if facts is None:
        return None
    if not isinstance(facts, Mapping):
        raise AnsibleFilterError(
            f"secrets_source expects a dictionary of facts per host, got {type(facts).__name__}"
        )
    groups = group_secrets(facts, hosts)
    if not groups:
        return None
    winner = strict_majority(groups)
    if winner is None:
        raise AnsibleFilterError(
            "secrets_source: the nodes hold different keystore/truststore/secrets.json files and "
            f"no set is held by a strict majority: {describe_groups(groups.values())}. Choose the "
            "authoritative node and copy its files to the others before running again."
        )
    return groups[winner][0]


def _ordered_hosts(nodes_in_order: object) -> list[str]:
    if isinstance(nodes_in_order, str) or not isinstance(nodes_in_order, (list, tuple)):
        raise AnsibleFilterError(
            "secrets_source expects the list of cluster hosts in order as its argument, got "
            f"{type(nodes_in_order).__name__}"
        )
    return list(dict.fromkeys(str(host) for host in nodes_in_order))


class FilterModule:
    """idm_automation.cluster.secrets_source"""

    def filters(self) -> dict[str, object]:
        return {"secrets_source": secrets_source}
