# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster_invariants filter: every way a PingIDM cluster description breaks the rules.

A thin filter over ``plugin_utils/invariants/``: the rules, their checks and fixes are listed
once, in ``plugin_utils/invariants/registry.py``; this module only documents and exposes them.
"""

from __future__ import annotations

from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.registry import (
    NUMBERS,
    check_cluster,
)

DOCUMENTATION = r"""
name: cluster_invariants
short_description: List every way a PingIDM cluster description breaks the cluster rules
version_added: 0.1.0
author: idm_automation maintainers (@idm-automation)
description:
  - Checks the description of one PingIDM cluster and returns the list of violated invariants.
    An empty list means the cluster can be deployed as described.
  - The C(preflight) role builds the description from the resolved variables of every host (and,
    on a second pass, from facts gathered on live nodes), so the filter judges exactly what the
    other roles will deploy. The filter itself is pure (no I/O) and runs in linear time.
  - Each violation names its rule, the hosts involved, what is wrong and what to change.
    Severity C(error) means the cluster would break or the change is unsafe; the C(preflight)
    role stops the play before any host is changed. Severity C(warning) means drift that the
    run repairs, or a check that cannot be made; the play goes on.
  - A missing or wrongly typed field is itself reported, under the rule that needs it. Hosts
    with the same problem share one violation. The result does not depend on the order of
    hosts. Fields the schema does not know are ignored and never echoed.
  - "Rule 1 C(node-id): every node has a node ID that matches C(^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$),
    and no two nodes share one, not even when case, full-width forms and surrounding spaces are
    ignored. A live node running under another ID is a warning (the run renames it). Renaming a
    live node to an ID that C(repository_instances) holds as a C(down) (or C(processing-down))
    instance is an error; a host not deployed yet that takes such an ID is a warning (it takes
    over that instance's cluster record, which is right only when it replaces that node)."
  - "Rule 2 C(one-repository): every node connects to the same repository (host without regard to
    case, port, database, user) and renders a byte-identical C(datasource.jdbc-default.json). A
    live file that differs from the rendered one is a warning (the run rewrites it). The
    repository host is not a loopback name or address (C(localhost), 127.0.0.0/8, C(::1), or a
    host whose C(address) is one) when the clustered nodes run on more than one machine, and the
    repository user is not the admin user (C(admin_user))."
  - "Rule 3 C(no-foreign-instance): no instance outside the cluster (a node with clustering
    disabled, or an entry of C(others)) uses the cluster's repository, and no instance unknown to
    the cluster checks in to it as running."
  - "Rule 4 C(one-keystore): one secrets mode on every node; C(provided) needs the same keystore
    and truststore sources everywhere, C(shared) the same keystore and truststore locations. Live
    keystore/truststore/secrets.json checksums that differ are a warning when a strict majority
    agrees (the run copies the majority's files) and an error otherwise."
  - "Rule 5 C(cluster-settings): C(conf/cluster.json) timings are integers (instanceTimeout,
    instanceRecoveryTimeout, instanceCheckInInterval positive; instanceCheckInOffset zero or
    more), instanceTimeout is at least twice and instanceRecoveryTimeout at least once the
    check-in interval, instanceCheckInOffset is below instanceTimeout, the check-in interval is
    at least 100 ms and no timing exceeds one day (86400000 ms), the timings are identical on
    every node, and clustering is enabled on every node of the group."
  - "Rule 5 C(config-mode): C(openidm.config.repo.enabled) and C(openidm.fileinstall.enabled)
    are identical on every node, and not both false."
  - "Rule 6 C(one-version): every node runs the same IDM version. A node whose installed version
    (fact C(installed_version)) differs from it changes version only forward, within PingIDM 8,
    and only in an upgrade (C(upgrade) true, set by C(playbooks/upgrade.yml)); an older release
    is refused in every run (roll back with the pre-upgrade backup)."
  - "Rule 7 C(ports): every port is an integer from 1 to 65535 (a boolean is not one), an
    instance does not use one port for two purposes, an enabled listener named C(http), C(https)
    or C(mutualauth) serves the boot port of that name, no port is below 1024 unless the service
    user is C(root) (the unit grants no capability), and no two instances or load balancers on
    the same machine use the same port. A machine is known by its C(machine) and by the inventory
    names of the hosts on it, so a host whose C(machine) is another host's name shares its
    machine."
  - "Rule 8 C(tls-names): when clients use TLS on a node's enabled secure listener, the node's
    certificate names (live, else planned) cover the public host name (exactly, without regard
    to case, or through a one-label C(*.) wildcard). A live certificate that fails while the
    planned one covers the name is a warning (the run installs the planned one). Unknown names
    are not judged, with one warning when no node's names are known."
  - "Rule 9 C(loadbalancer-backends): every load balancer sends traffic to exactly the clustered
    nodes: none missing, none listed twice, no unknown host, no instance outside the cluster."
  - "Rule 10 C(jvm-options): the node ID comes from C(boot_properties) or C(opts); with C(opts)
    the JVM options carry C(-Xmx), C(-Xms) and C(-Dopenidm.node.id=<node ID>), and in any mode
    no C(-Dopenidm.node.id) in the JVM options contradicts the node ID."
  - "Rule 11 C(bootstrap-node): the cluster has at least one node, and the bootstrap node is one
    of them with clustering enabled."
  - "Rule 12 C(persisted-schedules): when more than one node has enabled schedules, every
    enabled schedule is persisted (else it runs on every node); when any enabled schedule is
    persisted, at least one node that is not a standby node executes persistent schedules. A
    schedule name is a file name: not used twice on a node, without C(/), C(\\), C(..), glob
    characters (C(*?[])) or control characters."
  - "Rule 13 C(own-installation): IDM instances on one machine (aliases included, as in rule 7)
    have their own installation directory (C(home)) and service name (C(service))."
  - "Rule 14 C(certificate-expiry): a given certificate file (C(certificate.source) files) is
    valid for at least C(certificate.renew_days) more days; a served certificate under the
    threshold is a warning when the run renews or replaces it, an expired one the run cannot
    replace (source keystore) an error."
  - See C(docs/invariants.md) in the collection for the full input schema, examples and fixes.
positional: _input
options:
  _input:
    description: The cluster description.
    type: dict
    required: true
    suboptions:
      nodes:
        description:
          - The members of the cluster group, keyed by inventory host name.
          - "Each value holds C(node_id) (str or null), C(node_id_source) (C(boot_properties) or
            C(opts)), C(jvm_options) (list of str), C(machine) (str), C(version) (str),
            C(cluster) (C(enabled), C(instanceTimeout), C(instanceRecoveryTimeout),
            C(instanceCheckInInterval), C(instanceCheckInOffset)), C(repository) (C(host),
            C(port), C(database), C(user), C(datasource_sha256)), C(ports) (C(http), C(https),
            C(mutualauth)), C(listeners) (list of C(name), C(port), C(secure), C(enabled)),
            C(secrets) (C(mode) and C(keystore_src), C(truststore_src), C(secrets_json_src),
            C(keystore_location), C(truststore_location)), C(tls) (C(public_hostname),
            C(certificate_names), C(clients_use_tls)), C(config) (C(repo_enabled),
            C(fileinstall_enabled)), C(scheduler) (C(execute_persistent), C(schedules): list of
            C(name), C(enabled), C(persisted)) and C(standby) (bool)."
          - "Optional: C(home), C(service) and C(service_user) (str), C(repository.admin_user)
            and C(repository.address) (str or null), C(certificate) (C(renew_days) int,
            C(source) generate, files or keystore, C(file_days_left) int or null); absent ones
            are not judged."
          - "Integers and booleans must be real ones (C(true) is not 1, C('8080') is not a
            port). C(repository.datasource_sha256) may be null when the file cannot be rendered
            yet; it is then not compared. A schedule without C(enabled) is enabled, one without
            C(persisted) is not persisted, as in the product."
        type: dict
        required: true
      bootstrap_node:
        description: The node started first.
        type: str
        required: true
      others:
        description:
          - IDM instances outside the cluster group, keyed by host name. Each value holds
            C(repository) (C(host), C(port), C(database)), C(machine), C(ports) and optionally
            C(listeners), C(home), C(service) and C(service_user).
        type: dict
      loadbalancers:
        description:
          - Load balancers keyed by host name; each value holds C(backends) (list of hosts) and
            optionally C(machine) (str) and C(ports) (C(http), C(https), C(stats); 0 is off).
        type: dict
      facts:
        description:
          - Facts gathered from live nodes, keyed by host name; every key is optional.
          - C(keystore_sha256), C(truststore_sha256), C(secrets_json_sha256),
            C(datasource_sha256) (str), C(node_id) (str), C(certificate_names) (list of str),
            C(certificate_days_left) (int, days the served certificate is valid),
            C(installed_version) (str, the release the node has installed).
        type: dict
      upgrade:
        description:
          - True in a run of C(playbooks/upgrade.yml), where a node's installed version may be
            older than the inventory's (rule 6).
        type: bool
        default: false
      repository_instances:
        description: Rows of the repository's cluster table, each with C(id) and C(state).
        type: list
        elements: dict
seealso:
  - plugin: idm_automation.cluster.node_id
    plugin_type: filter
  - plugin: idm_automation.cluster.secrets_source
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Check the cluster before touching any host
  vars:
    __idm_violations: "{{ __idm_cluster_description | idm_automation.cluster.cluster_invariants }}"
    __idm_errors: "{{ __idm_violations | selectattr('severity', 'eq', 'error') | list }}"
  ansible.builtin.assert:
    that: __idm_errors | length == 0
    fail_msg: "{{ __idm_errors | map(attribute='message') | list }}"
  run_once: true

# Two nodes with the same node ID give:
# - rule: node-id
#   number: 1
#   severity: error
#   hosts: [idm1, idm2]
#   message: "node ID 'node1' is used by 2 nodes: idm1, idm2"
#   fix: "give every node its own node ID (idm_node_id) ..."
"""

RETURN = r"""
_value:
  description:
    - The violations, sorted by rule number, then hosts, then message. Empty when the description
      satisfies every rule.
  type: list
  elements: dict
  contains:
    rule:
      description: Stable slug of the rule, for example C(node-id) or C(config-mode).
      type: str
    number:
      description: Rule number, 1 to 14.
      type: int
    severity:
      description: C(error) (the play must stop) or C(warning) (drift that the run repairs).
      type: str
    hosts:
      description: Sorted names of the hosts involved; empty when no host can be named.
      type: list
      elements: str
    message:
      description: What is wrong, naming hosts and values.
      type: str
    fix:
      description: What the operator changes.
      type: str
"""

# Rule id -> rule number, as the registry lists them.
RULES: dict[str, int] = dict(NUMBERS)


def cluster_invariants(description: object) -> list[dict[str, object]]:
    """Every violated cluster invariant of ``description``, sorted and without duplicates."""
    return check_cluster(description)


class FilterModule:
    """idm_automation.cluster.cluster_invariants"""

    def filters(self) -> dict[str, object]:
        return {"cluster_invariants": cluster_invariants}
