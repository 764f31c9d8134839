# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one list of cluster rules, and the run of all of them over a description.

``RULES`` is what the ``cluster_invariants`` filter runs, what ``docs/invariants.md`` must list
(one ``### <number> `<id>`: <name>`` heading per rule, checked by the unit tests) and what the rule
tests must each trigger. To add a rule: write its check in the module of its family (or a new
one), add one ``Rule`` line below, then the heading in the docs and a failing case in the tests
(the tests say what is missing).

Checks run in the order listed: ``one-repository`` fills ``ctx.repos`` for
``no-foreign-instance``, and ``ports`` fills ``ctx.listeners`` for ``tls-names`` and
``certificate-expiry``, and ``ctx.machines`` for ``own-installation``. The output does
not depend on that order otherwise: violations are sorted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants import (
    certificates,
    configuration,
    identity,
    network,
    repository,
    secrets,
    topology,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.context import (
    Violation,
    prepare,
)


@dataclass(frozen=True)
class Rule:
    """One cluster rule: its stable id (the violations' ``rule``), number, title and check."""

    number: int  # the violations' ``number``; two rules may share one (5)
    id: str  # stable slug, for example node-id
    name: str  # the title in docs/invariants.md
    family: str  # the module under plugin_utils/invariants/ that holds the check
    check: Callable  # check(ctx) adds the rule's violations to the context
    fix: str  # the rule's main fix; "{host}"/"{name}" are filled in per violation


RULES: tuple[Rule, ...] = (
    Rule(1, "node-id", "one valid, unique node ID per node", "identity",
         identity.check_node_id, identity.FIX_NODE_ID),
    Rule(2, "one-repository", "one repository, one datasource file", "repository",
         repository.check_one_repository, repository.FIX_REPO),
    Rule(3, "no-foreign-instance", "nothing outside the cluster uses its repository", "repository",
         repository.check_no_foreign_instance, repository.FIX_FOREIGN),
    Rule(4, "one-keystore", "one keystore, truststore and secrets.json", "secrets",
         secrets.check_one_keystore, secrets.FIX_SECRETS),
    Rule(5, "cluster-settings", "sound, identical cluster.json", "configuration",
         configuration.check_cluster_settings, configuration.FIX_CLUSTER),
    Rule(5, "config-mode", "one way of reading configuration", "configuration",
         configuration.check_config_mode, configuration.FIX_CONFIG),
    Rule(6, "one-version", "one IDM version", "configuration",
         configuration.check_one_version, configuration.FIX_VERSION),
    Rule(7, "ports", "ports that can all be bound", "network",
         network.check_ports, network.FIX_PORTS),
    Rule(8, "tls-names", "the certificate covers the name clients use", "network",
         network.check_tls_names, network.FIX_TLS),
    Rule(9, "loadbalancer-backends", "the load balancer sends traffic to exactly the cluster",
         "topology", topology.check_loadbalancer_backends, topology.FIX_LB),
    Rule(10, "jvm-options", "OPENIDM_OPTS that work", "identity",
         identity.check_jvm_options, identity.FIX_JVM_OPTIONS),
    Rule(11, "bootstrap-node", "someone starts first", "topology",
         topology.check_bootstrap_node, topology.FIX_BOOTSTRAP),
    Rule(12, "persisted-schedules", "scheduled jobs run once, and somewhere", "configuration",
         configuration.check_persisted_schedules, configuration.FIX_SCHEDULES),
    Rule(13, "own-installation", "instances that share a machine share no installation",
         "network", network.check_own_installation, network.FIX_INSTALLATION),
    Rule(14, "certificate-expiry", "certificates that are not about to expire", "certificates",
         certificates.check_certificate_expiry, certificates.FIX_EXPIRY),
)  # fmt: skip

NUMBERS: dict[str, int] = {rule.id: rule.number for rule in RULES}
_CHECKS = tuple(rule.check for rule in RULES)


def _sort_key(violation: Violation) -> tuple:
    return (
        violation["number"],
        violation["hosts"],
        violation["message"],
        violation["rule"],
        violation["severity"],
        violation["fix"],
    )


def check_cluster(description: object) -> list[Violation]:
    """Every violated rule of ``description``, sorted and without duplicates."""
    ctx = prepare(description, NUMBERS)
    for check in _CHECKS:
        check(ctx)
    ctx.flush_problems()
    unique = {repr(_sort_key(v)): v for v in ctx.violations}
    return sorted(unique.values(), key=_sort_key)
