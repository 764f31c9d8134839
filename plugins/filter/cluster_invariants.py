# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster_invariants filter: every way a PingIDM cluster description breaks the rules."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants import (
    NODE_ID_REGEX,
    SECRET_FILE_FACTS,
    checksum,
    describe_groups,
    group_secrets,
    is_valid_node_id,
    name_list,
    normalise_node_id,
    strict_majority,
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
    ignored. A live node running under another ID is a warning (the run renames it)."
  - "Rule 2 C(one-repository): every node connects to the same repository (host without regard to
    case, port, database, user) and renders a byte-identical C(datasource.jdbc-default.json). A
    live file that differs from the rendered one is a warning (the run rewrites it)."
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
    check-in interval, the timings are identical on every node, and clustering is enabled on
    every node of the group."
  - "Rule 5 C(config-mode): C(openidm.config.repo.enabled) and C(openidm.fileinstall.enabled)
    are identical on every node, and not both false."
  - "Rule 6 C(one-version): every node runs the same IDM version."
  - "Rule 7 C(ports): every port is an integer from 1 to 65535, an instance does not use one
    port for two purposes, and no two instances on the same machine use the same port."
  - "Rule 8 C(tls-names): when clients use TLS on a node's enabled secure listener, the node's
    certificate names (live, else planned) cover the public host name (exactly, without regard
    to case, or through a one-label C(*.) wildcard). A live certificate that fails while the
    planned one covers the name is a warning (the run installs the planned one). Unknown names
    are not judged, with one warning when no node's names are known."
  - "Rule 9 C(loadbalancer-backends): every load balancer sends traffic to exactly the clustered
    nodes: none missing, no unknown host, no instance outside the cluster."
  - "Rule 10 C(jvm-options): the node ID comes from C(boot_properties) or C(opts); with C(opts)
    the JVM options carry C(-Xmx), C(-Xms) and C(-Dopenidm.node.id=<node ID>), and in any mode
    no C(-Dopenidm.node.id) in the JVM options contradicts the node ID."
  - "Rule 11 C(bootstrap-node): the cluster has at least one node, and the bootstrap node is one
    of them with clustering enabled."
  - "Rule 12 C(persisted-schedules): when more than one node has enabled schedules, every
    enabled schedule is persisted (else it runs on every node); when any enabled schedule is
    persisted, at least one node that is not a standby node executes persistent schedules."
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
            C(listeners).
        type: dict
      loadbalancers:
        description:
          - Load balancers keyed by host name; each value holds C(backends) (list of hosts).
        type: dict
      facts:
        description:
          - Facts gathered from live nodes, keyed by host name; every key is optional.
          - C(keystore_sha256), C(truststore_sha256), C(secrets_json_sha256),
            C(datasource_sha256) (str), C(node_id) (str), C(certificate_names) (list of str).
        type: dict
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
      description: Rule number, 1 to 12.
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

RULES: dict[str, int] = {
    "node-id": 1,
    "one-repository": 2,
    "no-foreign-instance": 3,
    "one-keystore": 4,
    "cluster-settings": 5,
    "config-mode": 5,
    "one-version": 6,
    "ports": 7,
    "tls-names": 8,
    "loadbalancer-backends": 9,
    "jvm-options": 10,
    "bootstrap-node": 11,
    "persisted-schedules": 12,
}
_FIX_BUG = "report a bug in the preflight role (it builds this description)"
ERROR = "error"
WARNING = "warning"

PORT_KEYS = ("http", "https", "mutualauth")
SECRETS_MODES = ("bootstrap", "provided", "shared")
SECRETS_PATHS = {
    "provided": ("keystore_src", "truststore_src"),
    "shared": ("keystore_location", "truststore_location"),
}
SECRET_FILE_NAMES = dict(
    zip(SECRET_FILE_FACTS, ("keystore", "truststore", "secrets.json"), strict=True)
)
NODE_ID_SOURCES = ("boot_properties", "opts")
TIMINGS = ("instanceTimeout", "instanceRecoveryTimeout", "instanceCheckInInterval")
NODE_ID_OPTION = "-Dopenidm.node.id="
_HEAP_OPTION = re.compile(r"-Xm([sx])[0-9]+[kKmMgGtT]?")

Check = tuple[str, Callable[[object], bool], str]
K = TypeVar("K", bound=Hashable)
RepoKey = tuple[str, int, str]
Violation = dict[str, object]


# --- value predicates and display -------------------------------------------------------------


_MISSING = object()


# type() first in the two predicates below: an exact type test is the fast path for the common
# case (they run for every field of every host); subclasses (Ansible's tagged values) still pass
# through isinstance(). pylint's unidiomatic-typecheck does not apply to a fast path.
def _is_mapping(value: object) -> bool:
    return type(value) is dict or isinstance(value, Mapping)  # pylint: disable=unidiomatic-typecheck


def _is_int(value: object) -> bool:
    return type(value) is int or (  # pylint: disable=unidiomatic-typecheck
        isinstance(value, int) and not isinstance(value, bool)
    )


def _is_positive_int(value: object) -> bool:
    return _is_int(value) and value > 0  # type: ignore[operator]


def _is_non_negative_int(value: object) -> bool:
    return _is_int(value) and value >= 0  # type: ignore[operator]


def _is_port(value: object) -> bool:
    return _is_int(value) and 0 < value < 65536  # type: ignore[operator]


def _is_bool(value: object) -> bool:
    return value is True or value is False


def _is_text(value: object) -> bool:
    return isinstance(value, str) and value != "" and not value.isspace()


def _is_optional_text(value: object) -> bool:
    return value is None or _is_text(value)


def _is_list(value: object) -> bool:
    return isinstance(value, (list, tuple))


def _is_names(value: object) -> bool:
    return _is_list(value) and all(isinstance(item, str) for item in value)  # type: ignore[union-attr]


def _is_optional_names(value: object) -> bool:
    return value is None or _is_names(value)


def _show(value: object) -> str:
    """A short, safe rendering of a schema value for messages (containers by type only)."""
    if isinstance(value, str):
        text = str(value)
        return repr(text if len(text) <= 60 else text[:57] + "...")
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, (int, float)):
        return repr(value)
    return f"a {type(value).__name__}"


# --- the context every rule works on ----------------------------------------------------------


class _Listener(NamedTuple):
    name: str
    port: int
    secure: bool
    enabled: bool


@dataclass
class _Context:
    raw: Mapping[str, object]
    nodes: dict[str, Mapping[str, object]] = field(default_factory=dict)
    others: dict[str, Mapping[str, object]] = field(default_factory=dict)
    facts: dict[str, Mapping[str, object]] = field(default_factory=dict)
    clustered: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    listeners: dict[str, list[_Listener]] = field(default_factory=dict)  # filled by rule 7
    repos: dict[str, RepoKey] = field(default_factory=dict)  # filled by rule 2
    violations: list[Violation] = field(default_factory=list)
    problems: dict[tuple[str, str, str, str], list[str]] = field(default_factory=dict)

    def problem(self, rule: str, host: str, text: str, fix: str, severity: str = ERROR) -> None:
        """A per-host problem; hosts with the same problem end up in one violation."""
        self.problems.setdefault((rule, text, fix, severity), []).append(host)

    def flush_problems(self) -> None:
        for (rule, text, fix, severity), hosts in self.problems.items():
            self.add(rule, hosts, f"{name_list(hosts)}: {text}", fix, severity)
        self.problems.clear()

    def add(
        self, rule: str, hosts: Iterable[object], message: str, fix: str, severity: str = ERROR
    ) -> None:
        self.violations.append(
            {
                "rule": rule,
                "number": RULES[rule],
                "severity": severity,
                "hosts": sorted({str(host) for host in hosts}),
                "message": message,
                "fix": fix,
            }
        )

    def fact(
        self, host: str, key: str, rule: str, ok: Callable[[object], bool], expected: str
    ) -> Any:
        """A gathered fact when present and well typed; an ill-typed one is reported."""
        entry = self.facts.get(host)
        value = None if entry is None else entry.get(key)
        if value is None or ok(value):
            return value
        self.add(
            rule,
            [host],
            f"{host}: gathered fact {key} must be {expected} (got {_show(value)})",
            "gather the facts again; if this persists, report a bug in the preflight role",
        )
        return None


def _field_fix(paths: list[str], missing_only: bool) -> str:
    if missing_only:
        return _FIX_BUG
    return f"correct the variable(s) behind {', '.join(paths)} for these hosts as the message says"


def _bad_field(
    ctx: _Context, rule: str, host: str, path: str, value: object, expected: str
) -> None:
    """Report one missing (None) or ill-typed field."""
    problem = "is missing" if value is None else f"must be {expected} (got {_show(value)})"
    ctx.problem(rule, host, f"{path} {problem}", _field_fix([path], value is None))


def _section(
    ctx: _Context, rule: str, host: str, inst: Mapping[str, object], name: str
) -> Mapping[str, object] | None:
    value = inst.get(name)
    if _is_mapping(value):
        return value  # type: ignore[return-value]
    _bad_field(ctx, rule, host, name, value, "a dictionary")
    return None


def _valid(
    ctx: _Context,
    rule: str,
    host: str,
    path: str,
    section: Mapping[str, object],
    checks: Sequence[Check],
) -> dict[str, object]:
    """The checked fields that are well typed; one violation lists all the others."""
    get = section.get
    valid = {key: value for key, ok, _text in checks if ok(value := get(key, _MISSING))}
    if len(valid) < len(checks):
        failed = [(key, get(key, _MISSING), text) for key, _ok, text in checks if key not in valid]
        _report_fields(ctx, rule, host, path, failed)
    return valid


def _report_fields(
    ctx: _Context, rule: str, host: str, path: str, failed: list[tuple[str, object, str]]
) -> None:
    problems = [
        f"{path}.{key} is missing"
        if value is _MISSING
        else f"{path}.{key} must be {expected} (got {_show(value)})"
        for key, value, expected in failed
    ]
    missing_only = all(value is _MISSING for _key, value, _expected in failed)
    fix = _field_fix([f"{path}.{key}" for key, _value, _expected in failed], missing_only)
    ctx.problem(rule, host, "; ".join(problems), fix)


def _disagreement(
    ctx: _Context,
    rule: str,
    what: str,
    values: Mapping[str, K],
    show: Callable[[K], str],
    fix: str,
) -> None:
    """Report hosts whose value differs: the minority when a strict majority agrees, else all."""
    groups: dict[K, list[str]] = {}
    for host, key in values.items():
        groups.setdefault(key, []).append(host)
    if len(groups) < 2:
        return
    majority = strict_majority(groups)
    hosts = [host for key, members in groups.items() if key != majority for host in members]
    order = sorted(groups, key=lambda k: (-len(groups[k]), show(k), sorted(groups[k])))
    text = "; ".join(f"{show(key)} on {name_list(groups[key])}" for key in order)
    ctx.add(rule, hosts, f"{what} is not the same on every node: {text}", fix)


# --- preparation --------------------------------------------------------------------------------


def _prepare(description: object) -> _Context:
    if not _is_mapping(description):
        ctx = _Context(raw={})
        ctx.add(
            "bootstrap-node",
            [],
            f"the cluster description must be a dictionary (got {_show(description)})",
            _FIX_BUG,
        )
        return ctx
    ctx = _Context(raw=description)
    ctx.nodes = _prepare_nodes(ctx, description.get("nodes"))
    ctx.others = _prepare_others(ctx, description.get("others"))
    ctx.facts = _prepare_facts(ctx, description.get("facts"))
    for host, node in ctx.nodes.items():
        cluster = node.get("cluster")
        enabled = cluster.get("enabled") if _is_mapping(cluster) else None
        (ctx.disabled if enabled is False else ctx.clustered).append(host)
    return ctx


def _prepare_nodes(ctx: _Context, nodes: object) -> dict[str, Mapping[str, object]]:
    if nodes is None:
        return {}
    if not _is_mapping(nodes):
        ctx.add(
            "bootstrap-node",
            [],
            f"nodes must be a dictionary of host name to variables (got {_show(nodes)})",
            _FIX_BUG,
        )
        return {}
    return {str(host): (node if _is_mapping(node) else {}) for host, node in nodes.items()}


def _prepare_others(ctx: _Context, others: object) -> dict[str, Mapping[str, object]]:
    fix = _FIX_BUG
    if others is None:
        return {}
    if not _is_mapping(others):
        ctx.add(
            "no-foreign-instance", [], f"others must be a dictionary (got {_show(others)})", fix
        )
        return {}
    result: dict[str, Mapping[str, object]] = {}
    for name, inst in others.items():
        host = str(name)
        if host in ctx.nodes:
            message = f"{host} is listed both as a node of the cluster and as another instance"
            ctx.add("no-foreign-instance", [host], message, fix)
        elif not _is_mapping(inst):
            message = f"{host}: the entry in others must be a dictionary (got {_show(inst)})"
            ctx.add("no-foreign-instance", [host], message, fix)
        else:
            result[host] = inst
    return result


def _prepare_facts(ctx: _Context, facts: object) -> dict[str, Mapping[str, object]]:
    fix = "gather the facts again; if this persists, report a bug in the preflight role"
    if facts is None:
        return {}
    if not _is_mapping(facts):
        ctx.add("one-keystore", [], f"facts must be a dictionary (got {_show(facts)})", fix)
        return {}
    result: dict[str, Mapping[str, object]] = {}
    for host, entry in facts.items():
        if _is_mapping(entry):
            result[str(host)] = entry
        elif entry is not None:
            message = f"{host}: gathered facts must be a dictionary (got {_show(entry)})"
            ctx.add("one-keystore", [host], message, fix)
    return result


# --- rule 1: node-id ------------------------------------------------------------------------------


def _fix_node_id(host: str) -> str:
    return (
        f"set idm_node_id for {host} to a value matching {NODE_ID_REGEX} (or remove it so that "
        "it is derived from the inventory name)"
    )


def _rule_node_id(ctx: _Context) -> None:
    ids: dict[str, str] = {}
    for host, node in ctx.nodes.items():
        value = node.get("node_id")
        if is_valid_node_id(value):
            ids[host] = value  # type: ignore[assignment]
        elif value is None or (isinstance(value, str) and not value.strip()):
            message = f"{host} has no node ID (IDM does not start without one)"
            ctx.add("node-id", [host], message, _fix_node_id(host))
        elif not isinstance(value, str):
            message = f"{host}: node_id must be a string (got {_show(value)})"
            ctx.add("node-id", [host], message, _fix_node_id(host) + "; quote numbers in YAML")
        else:
            message = f"{host}: node ID {_show(value)} does not match {NODE_ID_REGEX}"
            ctx.add("node-id", [host], message, _fix_node_id(host))
            ids[host] = value
    _node_id_clashes(ctx, ids)
    _node_id_drift(ctx, ids)


def _node_id_clashes(ctx: _Context, ids: Mapping[str, str]) -> None:
    by_key: dict[str, list[str]] = {}
    for host, value in ids.items():
        by_key.setdefault(normalise_node_id(value), []).append(host)
    fix = (
        "give every node its own node ID (idm_node_id), distinct even when case, full-width "
        "forms and surrounding spaces are ignored"
    )
    for hosts in by_key.values():
        if len(hosts) < 2:
            continue
        variants: dict[str, list[str]] = {}
        for host in hosts:
            variants.setdefault(ids[host], []).append(host)
        if len(variants) == 1:
            message = f"node ID {_show(ids[hosts[0]])} is used by {len(hosts)} nodes: "
            message += name_list(hosts)
        else:
            text = " vs ".join(f"{_show(v)} ({name_list(h)})" for v, h in sorted(variants.items()))
            message = f"node IDs differ only in case, width or surrounding spaces: {text}"
        ctx.add("node-id", hosts, message, fix)


def _node_id_drift(ctx: _Context, ids: Mapping[str, str]) -> None:
    for host, value in ids.items():
        live = ctx.fact(host, "node_id", "node-id", _is_text, "a non-empty string")
        if live is not None and live != value:
            message = (
                f"{host} currently runs as node {_show(live)}; the run changes its node ID to "
                f"{_show(value)} (the old ID stays in the repository's cluster table as down)"
            )
            fix = f"nothing if the new ID is intended; otherwise set idm_node_id for {host}"
            ctx.add("node-id", [host], message, fix, WARNING)


# --- rule 2: one-repository --------------------------------------------------------------------

_REPO_CONNECTION: tuple[Check, ...] = (
    ("host", _is_text, "a non-empty string"),
    ("port", _is_port, "an integer from 1 to 65535"),
    ("database", _is_text, "a non-empty string"),
)
_REPO_CHECKS: tuple[Check, ...] = (
    *_REPO_CONNECTION,
    ("user", _is_text, "a non-empty string"),
    ("datasource_sha256", _is_optional_text, "the sha256 of the rendered file, or null"),
)
_FIX_REPO = (
    "point every node at the same repository: set the repository host, port, database, user "
    "and datasource settings once for the whole cluster group, not per host"
)


def _repo_key(repo: Mapping[str, object]) -> RepoKey:
    """(host without case, port, database): what makes two instances share a repository."""
    return (str(repo["host"]).strip().casefold(), int(repo["port"]), str(repo["database"]))  # type: ignore[call-overload]


def _show_repo(key: tuple) -> str:
    text = f"{key[0]}:{key[1]}/{key[2]}"
    return f"{text} as user {_show(key[3])}" if len(key) > 3 else text


def _show_sum(digest: str) -> str:
    return f"sha256 {digest[:12]}"


def _rule_one_repository(ctx: _Context) -> None:
    connections: dict[str, tuple[str, int, str, str]] = {}
    sums: dict[str, str] = {}
    for host, node in ctx.nodes.items():
        repo = _section(ctx, "one-repository", host, node, "repository")
        if repo is None:
            continue
        valid = _valid(ctx, "one-repository", host, "repository", repo, _REPO_CHECKS)
        if "host" in valid and "port" in valid and "database" in valid:
            ctx.repos[host] = _repo_key(valid)
            if "user" in valid:
                connections[host] = (*ctx.repos[host], str(valid["user"]))
        digest = checksum(valid.get("datasource_sha256"))
        if digest is not None:  # null: not rendered (no password known yet), so not compared
            sums[host] = digest
    what = "the repository connection"
    _disagreement(ctx, "one-repository", what, connections, _show_repo, _FIX_REPO)
    what = "the rendered conf/datasource.jdbc-default.json"
    _disagreement(ctx, "one-repository", what, sums, _show_sum, _FIX_REPO)
    _datasource_drift(ctx, sums)


def _datasource_drift(ctx: _Context, sums: Mapping[str, str]) -> None:
    drifted = []
    for host, digest in sums.items():
        live = ctx.fact(host, "datasource_sha256", "one-repository", _is_text, "a sha256 string")
        if live is not None and checksum(live) != digest:
            drifted.append(host)
    if drifted:
        message = (
            f"the live conf/datasource.jdbc-default.json on {name_list(drifted)} differs from the "
            "rendered one; the run rewrites it"
        )
        fix = "nothing to do unless the live file was edited on purpose (then move that change "
        fix += "into the inventory, or it is lost)"
        ctx.add("one-repository", drifted, message, fix, WARNING)


# --- rule 3: no-foreign-instance ---------------------------------------------------------------

_FIX_FOREIGN = (
    "give {host} its own repository database, or make it a clustered node (in the cluster group, "
    "clustering enabled)"
)


def _rule_no_foreign_instance(ctx: _Context) -> None:
    cluster_repos = {ctx.repos[host] for host in ctx.clustered if host in ctx.repos}
    for host in ctx.disabled:
        if host in ctx.repos:
            _foreign_on_repo(ctx, host, "has clustering disabled", ctx.repos[host], cluster_repos)
    for host, inst in ctx.others.items():
        repo = _section(ctx, "no-foreign-instance", host, inst, "repository")
        if repo is None:
            continue
        valid = _valid(ctx, "no-foreign-instance", host, "repository", repo, _REPO_CONNECTION)
        if len(valid) == len(_REPO_CONNECTION):
            key = _repo_key(valid)
            _foreign_on_repo(ctx, host, "is not in the cluster group", key, cluster_repos)
    _foreign_checkins(ctx)


def _foreign_on_repo(
    ctx: _Context,
    host: str,
    why: str,
    key: RepoKey,
    cluster_repos: set[RepoKey],
) -> None:
    if key in cluster_repos:
        message = (
            f"{host} {why} but uses the cluster's repository {_show_repo(key)}; an instance "
            "outside the cluster must not share the repository with clustered nodes"
        )
        ctx.add("no-foreign-instance", [host], message, _FIX_FOREIGN.format(host=host))


def _known_ids(ctx: _Context, hosts: Iterable[str]) -> dict[str, list[str]]:
    """Node IDs (configured and live) of the given hosts, mapped to those hosts."""
    known: dict[str, list[str]] = {}
    for host in hosts:
        live = ctx.facts.get(host, {}).get("node_id")
        for value in (ctx.nodes[host].get("node_id"), live):
            if isinstance(value, str) and value:
                known.setdefault(value, []).append(host)
    return known


def _foreign_checkins(ctx: _Context) -> None:
    rows = ctx.raw.get("repository_instances")
    if rows is None:
        return
    fix = _FIX_BUG
    if not _is_list(rows):
        message = f"repository_instances must be a list (got {_show(rows)})"
        ctx.add("no-foreign-instance", [], message, fix)
        return
    members = _known_ids(ctx, ctx.clustered)
    outsiders = _known_ids(ctx, ctx.disabled)
    for row in rows:  # type: ignore[union-attr]
        if not _is_mapping(row) or not _is_text(row.get("id")):
            message = "an entry of repository_instances has no text id"
            ctx.add("no-foreign-instance", [], message, fix)
            continue
        instance, state = str(row["id"]), row.get("state")
        if isinstance(state, str) and state.casefold() == "running" and instance not in members:
            message = (
                f"instance {_show(instance)} checks in to the cluster's repository as running "
                "but is not a node of the cluster"
            )
            fix_text = (
                f"stop the instance {_show(instance)} or give it its own repository; if it "
                "should be a member, add its host to the cluster group"
            )
            ctx.add("no-foreign-instance", outsiders.get(instance, []), message, fix_text)


# --- rule 4: one-keystore ----------------------------------------------------------------------

_FIX_SECRETS = (
    "use one secrets mode for the whole cluster group, with the same keystore and truststore "
    "sources (provided) or locations (shared) on every node"
)


def _mode_ok(value: object) -> bool:
    return value in SECRETS_MODES


def _rule_one_keystore(ctx: _Context) -> None:
    modes: dict[str, str] = {}
    paths: dict[str, dict[str, tuple[object, ...]]] = {"provided": {}, "shared": {}}
    mode_check: Check = ("mode", _mode_ok, "one of " + ", ".join(SECRETS_MODES))
    for host, node in ctx.nodes.items():
        secrets = _section(ctx, "one-keystore", host, node, "secrets")
        if secrets is None:
            continue
        mode = _valid(ctx, "one-keystore", host, "secrets", secrets, (mode_check,))
        if not mode:
            continue
        modes[host] = str(mode["mode"])
        if mode["mode"] in SECRETS_PATHS:
            _secrets_paths(ctx, host, secrets, str(mode["mode"]), paths)
    _disagreement(ctx, "one-keystore", "the secrets mode", modes, str, _FIX_SECRETS)
    for mode, values in paths.items():
        what = f"the {' and '.join(SECRETS_PATHS[mode])} of {mode} mode"
        _disagreement(ctx, "one-keystore", what, values, _show_all, _FIX_SECRETS)
    _secrets_drift(ctx)


def _secrets_paths(
    ctx: _Context,
    host: str,
    secrets: Mapping[str, object],
    mode: str,
    paths: dict[str, dict[str, tuple[object, ...]]],
) -> None:
    checks: list[Check] = [(key, _is_text, "a non-empty string") for key in SECRETS_PATHS[mode]]
    if mode == "provided":
        checks.append(("secrets_json_src", _is_optional_text, "a non-empty string or null"))
    valid = _valid(ctx, "one-keystore", host, "secrets", secrets, checks)
    if len(valid) == len(checks):
        paths[mode][host] = tuple(valid[key] for key, _ok, _text in checks)


def _show_all(values: tuple[object, ...]) -> str:
    return ", ".join(_show(value) for value in values)


def _secrets_drift(ctx: _Context) -> None:
    judged = [host for host in ctx.nodes if _secret_facts_typed(ctx, host)]
    groups = group_secrets(ctx.facts, judged)
    if len(groups) < 2:
        return
    winner = strict_majority(groups)
    if winner is None:
        message = (
            "the nodes hold different keystore/truststore/secrets.json files and no set is held by "
            f"a strict majority: {describe_groups(groups.values())}"
        )
        fix = (
            "choose the authoritative node, copy its security/keystore.jceks, security/truststore "
            "and conf/secrets.json to the other nodes, then run again (copying automatically "
            "could destroy the keys that encrypt data in the repository)"
        )
        ctx.add("one-keystore", [h for group in groups.values() for h in group], message, fix)
        return
    odd = [host for sig, group in groups.items() if sig != winner for host in group]
    files = sorted(
        {name for sig in groups if sig != winner for name, a, b in _pairs(sig, winner) if a != b}
    )
    message = (
        f"{name_list(odd)} hold(s) a different {' and '.join(files)} than the majority of "
        f"nodes ({name_list(groups[winner])}); the run copies the majority's files to them"
    )
    fix = "nothing, unless the odd nodes hold the files you want to keep (then make them agree)"
    ctx.add("one-keystore", odd, message, fix, WARNING)


def _secret_facts_typed(ctx: _Context, host: str) -> bool:
    """Report ill-typed checksum facts; False if there was one (the host is then not judged)."""
    entry = ctx.facts.get(host, {})
    typed = True
    for key in SECRET_FILE_FACTS:
        if (
            entry.get(key) is not None
            and ctx.fact(host, key, "one-keystore", _is_text, "a sha256 string") is None
        ):
            typed = False
    return typed


def _pairs(signature: tuple, winner: tuple) -> Iterable[tuple[str, object, object]]:
    names = (SECRET_FILE_NAMES[key] for key in SECRET_FILE_FACTS)
    return zip(names, signature, winner, strict=True)


# --- rule 5: cluster-settings and config-mode --------------------------------------------------

_CLUSTER_CHECKS: tuple[Check, ...] = (
    ("enabled", _is_bool, "true or false"),
    ("instanceTimeout", _is_positive_int, "a positive integer (milliseconds)"),
    ("instanceRecoveryTimeout", _is_positive_int, "a positive integer (milliseconds)"),
    ("instanceCheckInInterval", _is_positive_int, "a positive integer (milliseconds)"),
    ("instanceCheckInOffset", _is_non_negative_int, "an integer of 0 or more (milliseconds)"),
)
_TIMING_KEYS = (*TIMINGS, "instanceCheckInOffset")
_FIX_CLUSTER = (
    "set the conf/cluster.json timings once for the whole cluster group: integers, "
    "instanceTimeout >= 2 x instanceCheckInInterval, instanceRecoveryTimeout >= "
    "instanceCheckInInterval"
)


def _rule_cluster_settings(ctx: _Context) -> None:
    timings: dict[str, tuple[int, ...]] = {}
    for host, node in ctx.nodes.items():
        cluster = _section(ctx, "cluster-settings", host, node, "cluster")
        if cluster is None:
            continue
        valid = _valid(ctx, "cluster-settings", host, "cluster", cluster, _CLUSTER_CHECKS)
        if valid.get("enabled") is False:
            message = f"{host} is in the cluster group but has clustering disabled"
            fix = (
                f"enable clustering on {host}, or move it out of the cluster group and give it "
                "its own repository"
            )
            ctx.add("cluster-settings", [host], message, fix)
        if all(key in valid for key in _TIMING_KEYS):
            values = tuple(int(valid[key]) for key in _TIMING_KEYS)  # type: ignore[call-overload]
            _timing_relations(ctx, host, *values[:3])
            timings[host] = values
    what = "the cluster.json timing"
    _disagreement(ctx, "cluster-settings", what, timings, _show_timings, _FIX_CLUSTER)


def _show_timings(values: tuple[int, ...]) -> str:
    pairs = zip(_TIMING_KEYS, values, strict=True)
    return ", ".join(f"{key}={value}" for key, value in pairs)


def _timing_relations(ctx: _Context, host: str, timeout: int, recovery: int, interval: int) -> None:
    if timeout < 2 * interval:
        message = (
            f"instanceTimeout ({timeout} ms) is less than twice instanceCheckInInterval "
            f"({interval} ms), so one late check-in makes a node look down"
        )
        ctx.problem("cluster-settings", host, message, _FIX_CLUSTER)
    if recovery < interval:
        message = (
            f"instanceRecoveryTimeout ({recovery} ms) is shorter than "
            f"instanceCheckInInterval ({interval} ms)"
        )
        ctx.problem("cluster-settings", host, message, _FIX_CLUSTER)


_CONFIG_CHECKS: tuple[Check, ...] = (
    ("repo_enabled", _is_bool, "true or false"),
    ("fileinstall_enabled", _is_bool, "true or false"),
)
_FIX_CONFIG = (
    "choose one configuration mode for the whole cluster group (openidm.config.repo.enabled and "
    "openidm.fileinstall.enabled, at least one of them true)"
)


def _rule_config_mode(ctx: _Context) -> None:
    modes: dict[str, tuple[bool, bool]] = {}
    blind = []
    for host, node in ctx.nodes.items():
        config = _section(ctx, "config-mode", host, node, "config")
        if config is None:
            continue
        valid = _valid(ctx, "config-mode", host, "config", config, _CONFIG_CHECKS)
        if len(valid) == 2:
            repo, files = bool(valid["repo_enabled"]), bool(valid["fileinstall_enabled"])
            modes[host] = (repo, files)
            if not repo and not files:
                blind.append(host)
    if blind:
        message = (
            f"{name_list(blind)}: openidm.config.repo.enabled and openidm.fileinstall.enabled are "
            "both false, so the node reads no configuration changes at all"
        )
        ctx.add("config-mode", blind, message, _FIX_CONFIG)
    what = "the configuration mode"
    _disagreement(ctx, "config-mode", what, modes, _show_config, _FIX_CONFIG)


def _show_config(mode: tuple[bool, bool]) -> str:
    return f"repo_enabled={_show(mode[0])}, fileinstall_enabled={_show(mode[1])}"


# --- rule 6: one-version -----------------------------------------------------------------------


def _rule_one_version(ctx: _Context) -> None:
    versions: dict[str, str] = {}
    fix = "install the same IDM version on every node (upgrade the others first)"
    for host, node in ctx.nodes.items():
        version = node.get("version")
        if _is_text(version):
            versions[host] = str(version).strip()
        else:
            _bad_field(ctx, "one-version", host, "version", version, "a non-empty string")
    _disagreement(ctx, "one-version", "the IDM version", versions, _show, fix)


# --- rule 7: ports -----------------------------------------------------------------------------

_PORT_CHECKS: tuple[Check, ...] = tuple(
    (key, _is_port, "an integer from 1 to 65535") for key in PORT_KEYS
)
_LISTENER_CHECKS: tuple[Check, ...] = (
    ("name", _is_text, "a non-empty string"),
    ("port", _is_port, "an integer from 1 to 65535"),
    ("secure", _is_bool, "true or false"),
    ("enabled", _is_bool, "true or false"),
)
_FIX_PORTS = (
    "give each port one purpose per instance (a listener that serves a boot port carries the same "
    "name: http, https or mutualauth), and distinct ports to instances that share a machine"
)


def _rule_ports(ctx: _Context) -> None:
    used: dict[str, list[int]] = {}
    machines: dict[str, str] = {}
    instances = [(h, n, True) for h, n in ctx.nodes.items()]
    instances += [(h, o, False) for h, o in ctx.others.items()]
    for host, inst, is_node in instances:
        ctx.listeners[host] = _listeners(ctx, host, inst, required=is_node)
        used[host] = _instance_ports(ctx, host, inst, ctx.listeners[host])
        machine = inst.get("machine")
        if _is_text(machine):
            machines[host] = str(machine).strip()
        else:
            _bad_field(ctx, "ports", host, "machine", machine, "a non-empty string")
    _machine_clashes(ctx, used, machines)


def _listeners(
    ctx: _Context, host: str, inst: Mapping[str, object], required: bool
) -> list[_Listener]:
    raw = inst.get("listeners")
    if raw is None and not required:
        return []
    if not _is_list(raw):
        _bad_field(ctx, "ports", host, "listeners", raw, "a list")
        return []
    result = []
    for index, item in enumerate(raw):  # type: ignore[arg-type]
        path = f"listeners[{index}]"
        if not _is_mapping(item):
            _bad_field(ctx, "ports", host, path, item, "a dictionary")
            continue
        valid = _valid(ctx, "ports", host, path, item, _LISTENER_CHECKS)
        if len(valid) == len(_LISTENER_CHECKS):
            result.append(_Listener(*valid.values()))  # same order as _LISTENER_CHECKS
    return result


def _instance_ports(
    ctx: _Context, host: str, inst: Mapping[str, object], listeners: list[_Listener]
) -> list[int]:
    labelled: list[tuple[int, str]] = []
    ports = _section(ctx, "ports", host, inst, "ports")
    if ports is not None:
        valid = _valid(ctx, "ports", host, "ports", ports, _PORT_CHECKS)
        labelled += [(int(port), key) for key, port in valid.items()]  # type: ignore[call-overload]
    labelled += [(item.port, item.name) for item in listeners if item.enabled]
    uses: dict[int, str] = {}
    clashes: dict[int, set[str]] = {}
    for port, label in labelled:
        first = uses.setdefault(port, label)
        if first != label:
            clashes.setdefault(port, {first}).add(label)
    for port, names in clashes.items():
        message = f"{host} uses port {port} for more than one purpose: {name_list(names)}"
        ctx.add("ports", [host], message, _FIX_PORTS)
    return list(uses)


def _machine_clashes(
    ctx: _Context, used: Mapping[str, list[int]], machines: Mapping[str, str]
) -> None:
    owners: dict[str, dict[int, str]] = {}
    sharing: dict[tuple[str, int], list[str]] = {}
    for host, machine in machines.items():
        key = machine.casefold()
        on_machine = owners.setdefault(key, {})
        for port in used.get(host, ()):
            owner = on_machine.setdefault(port, host)
            if owner != host:
                sharing.setdefault((key, port), [owner]).append(host)
    clashes: dict[tuple[str, ...], list[int]] = {}
    for (_machine, port), hosts in sharing.items():
        clashes.setdefault(tuple(sorted(hosts)), []).append(port)
    for hosts, ports in clashes.items():
        listed = ", ".join(str(port) for port in sorted(ports))
        machine = min(machines[host] for host in hosts)
        message = f"{name_list(hosts)} run on the same machine {machine} and share port(s) {listed}"
        ctx.add("ports", hosts, message, _FIX_PORTS)


# --- rule 8: tls-names -------------------------------------------------------------------------

_TLS_CHECKS: tuple[Check, ...] = (
    ("public_hostname", _is_text, "a non-empty string"),
    ("certificate_names", _is_optional_names, "a list of host names or null"),
    ("clients_use_tls", _is_bool, "true or false"),
)
_FIX_TLS = (
    "issue the node certificate for the name clients use (subject or subject alternative name "
    "{name}, or a matching *. wildcard), or correct the public host name"
)


def _host_key(name: str) -> str:
    return name.strip().rstrip(".").casefold()


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def covers(names: Iterable[str], public: str) -> bool:
    """True when a certificate with these names is valid for the host name ``public``."""
    target = _host_key(public)
    label, _dot, parent = target.partition(".")
    for name in names:
        key = _host_key(name)
        if key == target:
            return True
        if key.startswith("*.") and key[2:] == parent and label and not _is_ip(target):
            return True
    return False


def _rule_tls_names(ctx: _Context) -> None:
    unknown: list[str] = []
    known = False
    for host, node in ctx.nodes.items():
        tls = _section(ctx, "tls-names", host, node, "tls")
        live = ctx.fact(host, "certificate_names", "tls-names", _is_names, "a list of names")
        if tls is None:
            continue
        valid = _valid(ctx, "tls-names", host, "tls", tls, _TLS_CHECKS)
        secure = any(item.secure and item.enabled for item in ctx.listeners.get(host, ()))
        if len(valid) < len(_TLS_CHECKS) or not valid["clients_use_tls"] or not secure:
            continue
        planned = valid["certificate_names"]
        if live is None and planned is None:
            unknown.append(host)
            continue
        known = True
        _tls_verdict(ctx, host, str(valid["public_hostname"]), live, planned)  # type: ignore[arg-type]
    # Only when nodes were inspected: before a first deployment nothing can be known yet.
    if unknown and not known and ctx.facts:
        message = (
            f"the certificate names of {name_list(unknown)} are unknown, so nothing checks that "
            "they cover the host name clients use (TLS requests with another host name get 400)"
        )
        fix = "declare the certificate names, or check them yourself"
        ctx.add("tls-names", unknown, message, fix, WARNING)


def _tls_verdict(
    ctx: _Context, host: str, public: str, live: list[str] | None, planned: list[str] | None
) -> None:
    if covers(live if live is not None else planned or [], public):
        return
    fix = _FIX_TLS.format(name=_show(public))
    if live is not None and planned is not None and covers(planned, public):
        message = (
            f"the live certificate ({_names(live)}) does not cover {_show(public)}; the run "
            "installs the planned certificate, which does"
        )
        ctx.problem("tls-names", host, message, "nothing, the run repairs it", WARNING)
        return
    names = live if live is not None else planned
    which = "live" if live is not None else "planned"
    message = (
        f"the {which} certificate ({_names(names or [])}) does not cover the public host name "
        f"{_show(public)}: TLS requests for that name get 400 Bad Request"
    )
    ctx.problem("tls-names", host, message, fix)


def _names(names: list[str]) -> str:
    return "names " + name_list(_show(name) for name in names) if names else "no names"


# --- rule 9: loadbalancer-backends -------------------------------------------------------------

_FIX_LB = "make the load balancer's backends the clustered nodes (the cluster group), no others"


def _rule_loadbalancer_backends(ctx: _Context) -> None:
    balancers = ctx.raw.get("loadbalancers")
    if balancers is None:
        return
    if not _is_mapping(balancers):
        message = f"loadbalancers must be a dictionary (got {_show(balancers)})"
        ctx.add("loadbalancer-backends", [], message, _FIX_BUG)
        return
    clustered = set(ctx.clustered)
    outside = set(ctx.disabled) | set(ctx.others)
    for balancer, spec in balancers.items():
        backends = spec.get("backends") if _is_mapping(spec) else None
        if not _is_names(backends):
            message = f"{balancer}: backends must be a list of host names (got {_show(backends)})"
            ctx.add("loadbalancer-backends", [balancer], message, _FIX_LB)
            continue
        _backend_sets(ctx, str(balancer), set(backends), clustered, outside)  # type: ignore[arg-type]


def _backend_sets(
    ctx: _Context, balancer: str, backends: set[str], clustered: set[str], outside: set[str]
) -> None:
    findings = (
        (clustered - backends, "does not send traffic to the clustered node(s) {}"),
        (backends & outside, "sends traffic to {}, outside the cluster"),
        (backends - clustered - outside, "names {}, which the cluster description does not know"),
    )
    for hosts, what in findings:
        if hosts:
            message = f"load balancer {balancer} " + what.format(name_list(hosts))
            ctx.add("loadbalancer-backends", [balancer, *hosts], message, _FIX_LB)


# --- rule 10: jvm-options ----------------------------------------------------------------------


def _rule_jvm_options(ctx: _Context) -> None:
    for host, node in ctx.nodes.items():
        source, options = node.get("node_id_source"), node.get("jvm_options")
        if source not in NODE_ID_SOURCES:
            expected = "one of " + ", ".join(NODE_ID_SOURCES)
            _bad_field(ctx, "jvm-options", host, "node_id_source", source, expected)
        if not _is_names(options):
            _bad_field(ctx, "jvm-options", host, "jvm_options", options, "a list of strings")
            continue
        _check_options(ctx, host, node.get("node_id"), source, list(options))  # type: ignore[arg-type]


def _check_options(
    ctx: _Context, host: str, node_id: object, source: object, options: list[str]
) -> None:
    given = [
        option[len(NODE_ID_OPTION) :] for option in options if option.startswith(NODE_ID_OPTION)
    ]
    for value in sorted(set(given)):
        if isinstance(node_id, str) and node_id and value != node_id:
            message = (
                f"{host}: the JVM options set -Dopenidm.node.id={_show(value)}, which overrides "
                f"its node ID {_show(node_id)}"
            )
            fix = "remove -Dopenidm.node.id from the JVM options, or make it the node ID"
            ctx.add("jvm-options", [host], message, fix)
    if source != "opts":
        return
    heap = {match.group(1) for match in map(_HEAP_OPTION.fullmatch, options) if match}
    missing = [f"-Xm{kind}<size>" for kind in ("x", "s") if kind not in heap]
    if not given:
        missing.append("-Dopenidm.node.id=<node ID>")
    if missing:
        message = (
            f"the node ID is passed in OPENIDM_OPTS but the JVM options lack {', '.join(missing)} "
            "(setting OPENIDM_OPTS replaces the default heap options)"
        )
        fix = (
            "give the JVM options -Xmx and -Xms (for example -Xmx2048m -Xms2048m) and "
            "-Dopenidm.node.id=<node ID>, or take the node ID from boot.properties"
        )
        ctx.problem("jvm-options", host, message, fix)


# --- rule 11: bootstrap-node -------------------------------------------------------------------


def _rule_bootstrap_node(ctx: _Context) -> None:
    fix = "put at least one host in the cluster group; its first host is the bootstrap node"
    if not ctx.nodes:
        ctx.add("bootstrap-node", [], "the cluster group has no nodes", fix)
        return
    node = ctx.raw.get("bootstrap_node")
    fix = "make the bootstrap node (the first host of the cluster group) a clustered node"
    if node is None or node == "":
        ctx.add("bootstrap-node", [], "no bootstrap node is set", fix)
    elif not isinstance(node, str):
        message = f"bootstrap_node must be a host name (got {_show(node)})"
        ctx.add("bootstrap-node", [], message, fix)
    elif node not in ctx.nodes:
        message = f"the bootstrap node {node} is not a node of the cluster group"
        ctx.add("bootstrap-node", [node], message, fix)
    elif node in ctx.disabled:
        message = f"the bootstrap node {node} has clustering disabled"
        ctx.add("bootstrap-node", [node], message, fix)


# --- rule 12: persisted-schedules --------------------------------------------------------------

# A schedule without "enabled" is enabled and one without "persisted" is kept in memory, as in the
# product's schedule configuration; ill-typed values are reported.
_SCHEDULE_DEFAULTS = {"enabled": True, "persisted": False}
_SCHEDULE_CHECKS: tuple[Check, ...] = (
    ("name", _is_text, "a non-empty string"),
    ("enabled", _is_bool, "true or false"),
    ("persisted", _is_bool, "true or false"),
)
_FIX_SCHEDULES = (
    "set persisted: true on every enabled schedule, and let at least one active (not standby) "
    "node execute persistent schedules"
)


@dataclass
class _Schedules:
    with_enabled: list[str] = field(default_factory=list)
    not_persisted: dict[str, list[str]] = field(default_factory=dict)
    persisted: list[str] = field(default_factory=list)
    executors: list[str] = field(default_factory=list)


def _rule_persisted_schedules(ctx: _Context) -> None:
    seen = _Schedules()
    for host, node in ctx.nodes.items():
        standby = node.get("standby")
        if not _is_bool(standby):
            _bad_field(ctx, "persisted-schedules", host, "standby", standby, "true or false")
        scheduler = _section(ctx, "persisted-schedules", host, node, "scheduler")
        if scheduler is not None:
            _scan_scheduler(ctx, host, scheduler, standby is False, seen)
    if len(seen.with_enabled) > 1:
        for name, hosts in seen.not_persisted.items():
            message = (
                f"schedule {_show(name)} is enabled but not persisted on {name_list(hosts)}, so it "
                "runs on every node instead of once for the cluster"
            )
            ctx.add("persisted-schedules", hosts, message, _FIX_SCHEDULES)
    if seen.persisted and not seen.executors:
        message = (
            f"persisted schedules are enabled on {name_list(seen.persisted)} but no active (not "
            "standby) node executes persistent schedules, so they never run"
        )
        ctx.add("persisted-schedules", seen.persisted, message, _FIX_SCHEDULES)


def _scan_scheduler(
    ctx: _Context, host: str, scheduler: Mapping[str, object], active: bool, seen: _Schedules
) -> None:
    checks: tuple[Check, ...] = (("execute_persistent", _is_bool, "true or false"),)
    valid = _valid(ctx, "persisted-schedules", host, "scheduler", scheduler, checks)
    if active and valid.get("execute_persistent") is True:
        seen.executors.append(host)
    schedules = scheduler.get("schedules")
    if not _is_list(schedules):
        _bad_field(ctx, "persisted-schedules", host, "scheduler.schedules", schedules, "a list")
        return
    enabled = False
    for index, item in enumerate(schedules):  # type: ignore[arg-type]
        path = f"scheduler.schedules[{index}]"
        if not _is_mapping(item):
            _bad_field(ctx, "persisted-schedules", host, path, item, "a dictionary")
            continue
        item = {**_SCHEDULE_DEFAULTS, **item}
        entry = _valid(ctx, "persisted-schedules", host, path, item, _SCHEDULE_CHECKS)
        if len(entry) < len(_SCHEDULE_CHECKS) or not entry["enabled"]:
            continue
        enabled = True
        if entry["persisted"]:
            seen.persisted.append(host)
        else:
            seen.not_persisted.setdefault(str(entry["name"]), []).append(host)
    if enabled:
        seen.with_enabled.append(host)


# --- the filter --------------------------------------------------------------------------------

_RULE_CHECKS: tuple[Callable[[_Context], None], ...] = (
    _rule_node_id,
    _rule_one_repository,
    _rule_no_foreign_instance,
    _rule_one_keystore,
    _rule_cluster_settings,
    _rule_config_mode,
    _rule_one_version,
    _rule_ports,  # before tls-names: it collects the listeners
    _rule_tls_names,
    _rule_loadbalancer_backends,
    _rule_jvm_options,
    _rule_bootstrap_node,
    _rule_persisted_schedules,
)


def _sort_key(violation: Violation) -> tuple:
    return (
        violation["number"],
        violation["hosts"],
        violation["message"],
        violation["rule"],
        violation["severity"],
        violation["fix"],
    )


def cluster_invariants(description: object) -> list[Violation]:
    """Every violated cluster invariant of ``description``, sorted and without duplicates."""
    ctx = _prepare(description)
    for check in _RULE_CHECKS:
        check(ctx)
    ctx.flush_problems()
    unique = {repr(_sort_key(v)): v for v in ctx.violations}
    return sorted(unique.values(), key=_sort_key)


class FilterModule:
    """idm_automation.cluster.cluster_invariants"""

    def filters(self) -> dict[str, object]:
        return {"cluster_invariants": cluster_invariants}
