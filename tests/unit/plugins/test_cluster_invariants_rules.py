"""Every rule of the cluster_invariants filter: a passing and a failing case, exact verdicts.

Each case changes a valid three-node cluster (idm1..idm3, see idm_cluster_factory) and states the
complete verdict: the set of (rule, severity, hosts) the filter must return, nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ansible_collections.idm_automation.cluster.plugins.filter.cluster_invariants import (
    RULES,
    FilterModule,
    cluster_invariants,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.registry import (
    RULES as REGISTERED,
)
from idm_cluster_factory import clone, make_cluster, make_node, verdict

Desc = dict[str, Any]
E, W = "error", "warning"
ALL3 = ("idm1", "idm2", "idm3")


def node(desc: Desc, host: str) -> dict[str, Any]:
    return desc["nodes"][host]


def on(host: str, section: str, /, **values: Any) -> Callable[[Desc], None]:
    """A change that updates nodes[host][section] with values."""

    def change(desc: Desc) -> None:
        node(desc, host)[section].update(values)

    return change


def on_all(section: str, /, **values: Any) -> Callable[[Desc], None]:
    def change(desc: Desc) -> None:
        for host in desc["nodes"]:
            node(desc, host)[section].update(values)

    return change


def set_node(host: str, /, **values: Any) -> Callable[[Desc], None]:
    def change(desc: Desc) -> None:
        node(desc, host).update(values)

    return change


def with_facts(desc: Desc) -> Desc:
    full = make_cluster(len(desc["nodes"]), facts=True)
    desc["facts"] = full["facts"]
    return desc


def fact(host: str, /, **values: Any) -> Callable[[Desc], None]:
    def change(desc: Desc) -> None:
        if "facts" not in desc:
            with_facts(desc)
        desc["facts"][host].update(values)

    return change


def upgrading(desc: Desc) -> None:
    """A run of playbooks/upgrade.yml."""
    desc["upgrade"] = True


def deployed_on(repository: Any, addresses: Any = None) -> Callable[[Desc], None]:
    """Every node deployed on ``repository`` (the membership record) and resolving the configured
    repository host to ``addresses`` (None: not resolved)."""

    def change(desc: Desc) -> None:
        for host in desc["nodes"]:
            values = {"repository": repository}
            if addresses is not None:
                values["repository_addresses"] = addresses
            fact(host, **values)(desc)

    return change


PG1 = {"host": "pg1", "port": 5432, "database": "openidm", "addresses": ["10.0.0.5"]}


def others(**entries: Any) -> Callable[[Desc], None]:
    def change(desc: Desc) -> None:
        desc["others"] = entries

    return change


def dev(database: str = "openidm", host: str = "pg1", machine: str = "10.0.9.1", **ports: int):
    return {
        "repository": {"host": host, "port": 5432, "database": database, "user": "openidm"},
        "machine": machine,
        "ports": {"http": 8080, "https": 8443, "mutualauth": 8444, **ports},
    }


def chain(*changes: Callable[[Desc], None]) -> Callable[[Desc], None]:
    def change(desc: Desc) -> None:
        for item in changes:
            item(desc)

    return change


def listeners(host: str, *items: dict[str, Any]) -> Callable[[Desc], None]:
    return set_node(host, listeners=list(items))


HTTP = {"name": "http", "port": 8080, "secure": False, "enabled": True}
HTTPS = {"name": "https", "port": 8443, "secure": True, "enabled": True}


def persisted_facts(desc: Desc) -> None:
    with_facts(desc)


def rows(*items: tuple[str, str]) -> Callable[[Desc], None]:
    """repository_instances rows (id, state)."""
    return lambda d: d.update(repository_instances=[{"id": i, "state": st} for i, st in items])


def balancer(**spec: Any) -> Callable[[Desc], None]:
    """lb1 with the given machine/ports (backends stay the cluster)."""
    return lambda d: d["loadbalancers"]["lb1"].update(spec)


LB_PORTS = {"http": 80, "https": 443, "stats": 8404}


def schedules(host: str, *names: str) -> Callable[[Desc], None]:
    items = [{"name": name, "enabled": True, "persisted": True} for name in names]
    return on(host, "scheduler", schedules=items)


def two_nodes(desc: Desc) -> None:
    del desc["nodes"]["idm3"]
    desc["loadbalancers"]["lb1"]["backends"] = ["idm1", "idm2"]


# (id, change, expected verdict)
CASES: list[tuple[str, Callable[[Desc], None], set[tuple[str, str, tuple[str, ...]]]]] = [
    # 1 node-id
    (
        "1-pass-varied-ids",
        chain(set_node("idm1", node_id="a.b_c-1"), set_node("idm2", node_id="Z" * 64)),
        set(),
    ),
    ("1-missing", set_node("idm2", node_id=None), {("node-id", E, ("idm2",))}),
    ("1-empty", set_node("idm2", node_id=""), {("node-id", E, ("idm2",))}),
    ("1-blank", set_node("idm2", node_id="   "), {("node-id", E, ("idm2",))}),
    ("1-not-a-string", set_node("idm2", node_id=2), {("node-id", E, ("idm2",))}),
    ("1-leading-dash", set_node("idm2", node_id="-node2"), {("node-id", E, ("idm2",))}),
    ("1-space-inside", set_node("idm2", node_id="node 2"), {("node-id", E, ("idm2",))}),
    ("1-too-long", set_node("idm2", node_id="n" * 65), {("node-id", E, ("idm2",))}),
    ("1-duplicate", set_node("idm2", node_id="node1"), {("node-id", E, ("idm1", "idm2"))}),
    ("1-case-clash", set_node("idm3", node_id="NODE1"), {("node-id", E, ("idm1", "idm3"))}),
    (
        "1-whitespace-clash",
        set_node("idm2", node_id=" node1"),
        {("node-id", E, ("idm2",)), ("node-id", E, ("idm1", "idm2"))},
    ),
    (
        "1-fullwidth-clash",
        set_node("idm2", node_id="\uff4e\uff4f\uff44\uff45\uff11"),  # full-width "node1"
        {("node-id", E, ("idm2",)), ("node-id", E, ("idm1", "idm2"))},
    ),
    ("1-live-id-differs", fact("idm2", node_id="old2"), {("node-id", W, ("idm2",))}),
    # 2 one-repository
    ("2-pass-host-case", on("idm2", "repository", host="PG1"), set()),
    ("2-port-minority", on("idm3", "repository", port=5433), {("one-repository", E, ("idm3",))}),
    ("2-user-minority", on("idm1", "repository", user="other"), {("one-repository", E, ("idm1",))}),
    (
        "2-no-majority",
        chain(two_nodes, on("idm2", "repository", host="pg2")),
        {("one-repository", E, ("idm1", "idm2"))},
    ),
    (
        "2-datasource-differs",
        on("idm2", "repository", datasource_sha256="f" * 64),
        {("one-repository", E, ("idm2",))},
    ),
    ("2-port-as-text", on("idm2", "repository", port="5432"), {("one-repository", E, ("idm2",))}),
    ("2-missing", set_node("idm2", repository=None), {("one-repository", E, ("idm2",))}),
    ("2-pass-datasource-not-rendered", on("idm2", "repository", datasource_sha256=None), set()),
    ("2-pass-live-same", persisted_facts, set()),
    (
        "2-live-drift-is-warning",
        fact("idm2", datasource_sha256="e" * 64),
        {("one-repository", W, ("idm2",))},
    ),
    # 2 one-repository: the repository of a deployed cluster changes (compared by resolution)
    ("2-pass-deployed-same-record", deployed_on("pg1:5432/openidm"), set()),
    ("2-pass-deployed-same-case", deployed_on("PG1.:5432/openidm"), set()),
    (
        "2-pass-deployed-alias",
        chain(on_all("repository", host="pg1.example.com"), deployed_on(PG1, ["10.0.0.5"])),
        set(),
    ),
    (
        "2-pass-deployed-address",
        chain(on_all("repository", host="10.0.0.5"), deployed_on(PG1)),
        set(),
    ),
    (
        "2-pass-deployed-ipv4-mapped",
        chain(on_all("repository", host="::ffff:10.0.0.5"), deployed_on(PG1)),
        set(),
    ),
    (
        "2-repo-change-other-server",
        chain(on_all("repository", host="pg2"), deployed_on(PG1, ["10.0.0.9"])),
        {("one-repository", E, ALL3)},
    ),
    (
        "2-repo-change-unresolved-name",
        chain(on_all("repository", host="pg1.example.com"), deployed_on("pg1:5432/openidm")),
        {("one-repository", E, ALL3)},
    ),
    (
        "2-repo-change-database",
        chain(on_all("repository", database="idm"), deployed_on(PG1, ["10.0.0.5"])),
        {("one-repository", E, ALL3)},
    ),
    (
        "2-repo-change-port",
        chain(on_all("repository", port=5433), deployed_on(PG1, ["10.0.0.5"])),
        {("one-repository", E, ALL3)},
    ),
    (
        "2-repo-change-one-node",
        chain(deployed_on(PG1, ["10.0.0.5"]), fact("idm3", repository="pg0:5432/openidm")),
        {("one-repository", E, ("idm3",))},
    ),
    (
        "2-repo-change-allowed-is-warning",
        chain(
            on_all("repository", host="pg2", change_allowed=True),
            deployed_on(PG1, ["10.0.0.9"]),
        ),
        {("one-repository", W, ALL3)},
    ),
    (
        "2-repo-change-allowed-not-boolean",
        chain(
            on_all("repository", host="pg2", change_allowed="yes"),
            deployed_on(PG1, ["10.0.0.9"]),
        ),
        {("one-repository", E, ALL3)},
    ),
    (
        "2-deployed-record-unreadable",
        fact("idm2", repository="somewhere"),
        {("one-repository", E, ("idm2",))},
    ),
    # 3 no-foreign-instance
    ("3-pass-other-database", others(dev1=dev(database="openidm_dev")), set()),
    ("3-pass-other-server", others(dev1=dev(host="pg9")), set()),
    ("3-other-on-cluster-repo", others(dev1=dev()), {("no-foreign-instance", E, ("dev1",))}),
    (
        "3-other-on-cluster-repo-case",
        others(dev1=dev(host="PG1")),
        {("no-foreign-instance", E, ("dev1",))},
    ),
    (
        "3-disabled-member",
        on("idm3", "cluster", enabled=False),
        {
            ("cluster-settings", E, ("idm3",)),
            ("no-foreign-instance", E, ("idm3",)),
            ("loadbalancer-backends", E, ("idm3", "lb1")),
        },
    ),
    (
        "3-unknown-checkin",
        lambda d: d.update(repository_instances=[{"id": "ghost", "state": "running"}]),
        {("no-foreign-instance", E, ())},
    ),
    (
        "3-pass-unknown-down",
        lambda d: d.update(repository_instances=[{"id": "ghost", "state": "down"}]),
        set(),
    ),
    (
        "3-pass-renamed-member",
        chain(
            fact("idm2", node_id="old2"),
            lambda d: d.update(repository_instances=[{"id": "old2", "state": "running"}]),
        ),
        {("node-id", W, ("idm2",))},
    ),
    ("3-others-not-a-dict", lambda d: d.update(others=["dev1"]), {("no-foreign-instance", E, ())}),
    ("3-other-is-a-node", others(idm1=dev()), {("no-foreign-instance", E, ("idm1",))}),
    # 4 one-keystore
    (
        "4-pass-provided",
        on_all("secrets", mode="provided", keystore_src="ks", truststore_src="ts"),
        set(),
    ),
    (
        "4-pass-shared",
        on_all("secrets", mode="shared", keystore_location="/s/ks", truststore_location="/s/ts"),
        set(),
    ),
    (
        "4-mode-minority",
        on("idm3", "secrets", mode="shared", keystore_location="/k", truststore_location="/t"),
        {("one-keystore", E, ("idm3",))},
    ),
    ("4-mode-unknown", on("idm2", "secrets", mode="vault"), {("one-keystore", E, ("idm2",))}),
    (
        "4-provided-without-truststore",
        chain(
            on_all("secrets", mode="provided", keystore_src="ks", truststore_src="ts"),
            on("idm2", "secrets", truststore_src=None),
        ),
        {("one-keystore", E, ("idm2",))},
    ),
    (
        "4-provided-different-source",
        chain(
            on_all("secrets", mode="provided", keystore_src="ks", truststore_src="ts"),
            on("idm2", "secrets", keystore_src="other-ks"),
        ),
        {("one-keystore", E, ("idm2",))},
    ),
    (
        "4-shared-different-location-no-majority",
        chain(
            two_nodes,
            on_all("secrets", mode="shared", keystore_location="/k", truststore_location="/t"),
            on("idm2", "secrets", truststore_location="/elsewhere/t"),
        ),
        {("one-keystore", E, ("idm1", "idm2"))},
    ),
    (
        "4-pass-one-node-has-files",
        lambda d: d.update(facts={"idm1": {"keystore_sha256": "1"}}),
        set(),
    ),
    (
        "4-drift-minority-is-warning",
        fact("idm3", keystore_sha256="9" * 64),
        {("one-keystore", W, ("idm3",))},
    ),
    (
        "4-missing-secrets-json-is-drift",
        fact("idm2", secrets_json_sha256=None),
        {("one-keystore", W, ("idm2",))},
    ),
    (
        "4-drift-one-against-one-is-error",
        chain(two_nodes, fact("idm2", truststore_sha256="9" * 64)),
        {("one-keystore", E, ("idm1", "idm2"))},
    ),
    (
        "4-drift-all-different-is-error",
        chain(fact("idm2", keystore_sha256="8" * 64), fact("idm3", keystore_sha256="9" * 64)),
        {("one-keystore", E, ALL3)},
    ),
    ("4-fact-ill-typed", fact("idm2", keystore_sha256=5), {("one-keystore", E, ("idm2",))}),
    # 5 cluster-settings
    (
        "5-pass-custom-equal",
        on_all(
            "cluster",
            instanceTimeout=60000,
            instanceRecoveryTimeout=10000,
            instanceCheckInInterval=10000,
            instanceCheckInOffset=250,
        ),
        set(),
    ),
    (
        "5-timeout-below-two-intervals",
        on_all("cluster", instanceTimeout=9999),
        {("cluster-settings", E, ALL3)},
    ),
    (
        "5-recovery-below-interval",
        on_all("cluster", instanceRecoveryTimeout=4999),
        {("cluster-settings", E, ALL3)},
    ),
    (
        "5-bool-is-not-int",
        on("idm2", "cluster", instanceCheckInOffset=True),
        {("cluster-settings", E, ("idm2",))},
    ),
    (
        "5-text-is-not-int",
        on("idm2", "cluster", instanceTimeout="30000"),
        {("cluster-settings", E, ("idm2",))},
    ),
    (
        "5-zero-interval",
        on("idm2", "cluster", instanceCheckInInterval=0),
        {("cluster-settings", E, ("idm2",))},
    ),
    (
        "5-negative-offset",
        on("idm2", "cluster", instanceCheckInOffset=-1),
        {("cluster-settings", E, ("idm2",))},
    ),
    (
        "5-timings-differ",
        on("idm3", "cluster", instanceTimeout=60000),
        {("cluster-settings", E, ("idm3",))},
    ),
    (
        "5-enabled-ill-typed",
        on("idm2", "cluster", enabled="yes"),
        {("cluster-settings", E, ("idm2",))},
    ),
    # 5 config-mode
    ("5c-pass-file-and-repo", on_all("config", repo_enabled=True, fileinstall_enabled=True), set()),
    (
        "5c-mode-differs",
        on("idm2", "config", fileinstall_enabled=True),
        {("config-mode", E, ("idm2",))},
    ),
    (
        "5c-reads-nothing",
        on_all("config", repo_enabled=False, fileinstall_enabled=False),
        {("config-mode", E, ALL3)},
    ),
    ("5c-ill-typed", on("idm2", "config", repo_enabled="true"), {("config-mode", E, ("idm2",))}),
    (
        "5c-pass-same-objects-as-code",
        on_all("config", objects_digest="a" * 64, connectors_digest="c" * 64),
        set(),
    ),
    (
        "5c-objects-as-code-differ",
        chain(
            on_all("config", objects_digest="a" * 64), on("idm3", "config", objects_digest="b" * 64)
        ),
        {("config-mode", E, ("idm3",))},
    ),
    (
        "5c-connectors-differ",
        chain(
            on_all("config", connectors_digest="c" * 64),
            on("idm1", "config", connectors_digest="d"),
        ),
        {("config-mode", E, ("idm1",))},
    ),
    (
        "5c-objects-digest-ill-typed",
        chain(on_all("config", objects_digest="a" * 64), on("idm2", "config", objects_digest=5)),
        {("config-mode", E, ("idm2",))},
    ),
    # 6 one-version
    ("6-pass-surrounding-space", set_node("idm2", version=" 8.1.0 "), set()),
    ("6-version-differs", set_node("idm3", version="8.0.0"), {("one-version", E, ("idm3",))}),
    ("6-version-missing", set_node("idm2", version=None), {("one-version", E, ("idm2",))}),
    ("6-installed-same", fact("idm2", installed_version="8.1.0"), set()),
    (
        "6-version-change-outside-upgrade",
        fact("idm2", installed_version="8.0.0"),
        {("one-version", E, ("idm2",))},
    ),
    ("6-upgrade-forward", chain(upgrading, fact("idm2", installed_version="8.0.0")), set()),
    ("6-upgrade-patch", chain(upgrading, fact("idm1", installed_version="8.1.0")), set()),
    (
        "6-downgrade",
        chain(
            upgrading,
            fact("idm1", installed_version="8.1.1"),
            fact("idm2", installed_version="8.1.1"),
        ),
        {("one-version", E, ("idm1", "idm2"))},
    ),
    (
        "6-upgrade-other-major",
        chain(upgrading, fact("idm3", installed_version="7.5.0")),
        {("one-version", E, ("idm3",))},
    ),
    (
        "6-installed-not-a-version",
        chain(upgrading, fact("idm3", installed_version="8.1.x")),
        {("one-version", E, ("idm3",))},
    ),
    ("6-installed-ill-typed", fact("idm3", installed_version=81), {("one-version", E, ("idm3",))}),
    # 7 ports
    (
        "7-pass-colocated-other-ports",
        others(
            dev1=dev(database="dev", machine="10.0.0.1", http=9080, https=9443, mutualauth=9444)
        ),
        set(),
    ),
    (
        "7-colocated-same-ports",
        others(dev1=dev(database="dev", machine="10.0.0.1")),
        {("ports", E, ("dev1", "idm1"))},
    ),
    (
        "7-colocated-machine-case",
        chain(
            set_node("idm1", machine="IDM-HOST"),
            others(dev1=dev(database="dev", machine="idm-host")),
        ),
        {("ports", E, ("dev1", "idm1"))},
    ),
    (
        "7-two-nodes-one-machine",
        set_node("idm2", machine="10.0.0.1"),
        {("ports", E, ("idm1", "idm2"))},
    ),
    ("7-port-out-of-range", on("idm2", "ports", mutualauth=70000), {("ports", E, ("idm2",))}),
    ("7-port-bool", on("idm2", "ports", http=True), {("ports", E, ("idm2",))}),
    ("7-boot-ports-equal", on("idm2", "ports", https=8080), {("ports", E, ("idm2",))}),
    (
        "7-listener-on-boot-port",
        listeners(
            "idm2", HTTP, HTTPS, {"name": "admin", "port": 8080, "secure": False, "enabled": True}
        ),
        {("ports", E, ("idm2",))},
    ),
    (
        "7-pass-disabled-listener-on-boot-port",
        listeners(
            "idm2", HTTP, HTTPS, {"name": "admin", "port": 8080, "secure": False, "enabled": False}
        ),
        set(),
    ),
    ("7-listeners-missing", set_node("idm2", listeners=None), {("ports", E, ("idm2",))}),
    (
        "7-listener-port-text",
        listeners("idm2", HTTP, {**HTTPS, "port": "8443"}),
        {("ports", E, ("idm2",))},
    ),
    ("7-machine-missing", set_node("idm2", machine=None), {("ports", E, ("idm2",))}),
    # 8 tls-names
    ("8-pass-wildcard", on("idm2", "tls", certificate_names=["*.example.com"]), set()),
    ("8-pass-case-and-dot", on("idm2", "tls", certificate_names=["IDM.Example.COM."]), set()),
    (
        "8-two-label-wildcard",
        on("idm2", "tls", certificate_names=["*.com"]),
        {("tls-names", E, ("idm2",))},
    ),
    (
        "8-wrong-name",
        on("idm2", "tls", certificate_names=["localhost"]),
        {("tls-names", E, ("idm2",))},
    ),
    ("8-no-names", on("idm2", "tls", certificate_names=[]), {("tls-names", E, ("idm2",))}),
    (
        "8-pass-clients-plain-http",
        chain(
            on("idm2", "tls", certificate_names=["localhost"]),
            on("idm2", "tls", clients_use_tls=False),
        ),
        set(),
    ),
    (
        "8-pass-no-secure-listener",
        chain(
            on("idm2", "tls", certificate_names=["localhost"]),
            listeners("idm2", HTTP, {**HTTPS, "enabled": False}),
        ),
        set(),
    ),
    (
        "8-all-unknown-on-inspected-nodes-is-warning",
        chain(
            on_all("tls", certificate_names=None),
            *(fact(h, certificate_names=None) for h in ALL3),
        ),
        {("tls-names", W, ALL3)},
    ),
    ("8-all-unknown-before-any-deployment", on_all("tls", certificate_names=None), set()),
    ("8-pass-some-unknown", on("idm2", "tls", certificate_names=None), set()),
    (
        "8-live-wrong-planned-right-is-warning",
        fact("idm2", certificate_names=["localhost"]),
        {("tls-names", W, ("idm2",))},
    ),
    (
        "8-live-wrong-planned-unknown",
        chain(
            fact("idm2", certificate_names=["localhost"]), on("idm2", "tls", certificate_names=None)
        ),
        {("tls-names", E, ("idm2",))},
    ),
    (
        "8-pass-live-right-planned-wrong",
        chain(persisted_facts, on("idm2", "tls", certificate_names=["localhost"])),
        set(),
    ),
    (
        "8-ip-is-not-wildcarded",
        on_all("tls", public_hostname="10.0.0.5", certificate_names=["*.0.0.5"]),
        {("tls-names", E, ALL3)},
    ),
    (
        "8-public-hostname-missing",
        on("idm2", "tls", public_hostname=None),
        {("tls-names", E, ("idm2",))},
    ),
    # 9 loadbalancer-backends
    (
        "9-pass-any-order",
        lambda d: d["loadbalancers"]["lb1"].update(backends=["idm3", "idm1", "idm2"]),
        set(),
    ),
    ("9-pass-none", lambda d: d.pop("loadbalancers"), set()),
    (
        "9-missing-backend",
        lambda d: d["loadbalancers"]["lb1"].update(backends=["idm1", "idm2"]),
        {("loadbalancer-backends", E, ("idm3", "lb1"))},
    ),
    (
        "9-unknown-backend",
        lambda d: d["loadbalancers"]["lb1"]["backends"].append("idm9"),
        {("loadbalancer-backends", E, ("idm9", "lb1"))},
    ),
    (
        "9-backend-outside-cluster",
        chain(
            others(dev1=dev(database="dev")),
            lambda d: d["loadbalancers"]["lb1"]["backends"].append("dev1"),
        ),
        {("loadbalancer-backends", E, ("dev1", "lb1"))},
    ),
    (
        "9-backends-not-a-list",
        lambda d: d["loadbalancers"]["lb1"].update(backends="idm1"),
        {("loadbalancer-backends", E, ("lb1",))},
    ),
    # 10 jvm-options
    (
        "10-pass-opts",
        set_node(
            "idm2",
            node_id_source="opts",
            jvm_options=["-Xmx2g", "-Xms2g", "-Dopenidm.node.id=node2"],
        ),
        set(),
    ),
    (
        "10-opts-without-xmx",
        set_node("idm2", node_id_source="opts", jvm_options=["-Xms2g", "-Dopenidm.node.id=node2"]),
        {("jvm-options", E, ("idm2",))},
    ),
    (
        "10-opts-without-node-id",
        set_node("idm2", node_id_source="opts", jvm_options=["-Xmx2g", "-Xms2g"]),
        {("jvm-options", E, ("idm2",))},
    ),
    (
        "10-stray-node-id-overrides",
        set_node("idm2", jvm_options=["-Xmx2g", "-Dopenidm.node.id=node7"]),
        {("jvm-options", E, ("idm2",))},
    ),
    ("10-pass-boot-properties-no-heap", set_node("idm2", jvm_options=[]), set()),
    ("10-unknown-source", set_node("idm2", node_id_source="env"), {("jvm-options", E, ("idm2",))}),
    (
        "10-options-not-a-list",
        set_node("idm2", jvm_options="-Xmx2g"),
        {("jvm-options", E, ("idm2",))},
    ),
    # 11 bootstrap-node
    ("11-pass-standby-bootstrap", set_node("idm1", standby=True), set()),
    (
        "11-no-nodes",
        lambda d: d.update(nodes={}, bootstrap_node=None, loadbalancers={}),
        {("bootstrap-node", E, ())},
    ),
    ("11-unset", lambda d: d.update(bootstrap_node=None), {("bootstrap-node", E, ())}),
    (
        "11-not-a-member",
        lambda d: d.update(bootstrap_node="idm9"),
        {("bootstrap-node", E, ("idm9",))},
    ),
    (
        "11-disabled",
        on("idm1", "cluster", enabled=False),
        {
            ("bootstrap-node", E, ("idm1",)),
            ("cluster-settings", E, ("idm1",)),
            ("no-foreign-instance", E, ("idm1",)),
            ("loadbalancer-backends", E, ("idm1", "lb1")),
        },
    ),
    # 12 persisted-schedules
    (
        "12-pass-single-node-in-memory",
        chain(
            lambda d: d.update(make_cluster(1)),
            on("idm1", "scheduler", schedules=[{"name": "r", "enabled": True, "persisted": False}]),
        ),
        set(),
    ),
    (
        "12-in-memory-on-many-nodes",
        on_all("scheduler", schedules=[{"name": "reconcile", "enabled": True, "persisted": False}]),
        {("persisted-schedules", E, ALL3)},
    ),
    (
        "12-persisted-absent-means-in-memory",
        on_all("scheduler", schedules=[{"name": "reconcile"}]),
        {("persisted-schedules", E, ALL3)},
    ),
    (
        "12-pass-disabled-in-memory",
        on_all(
            "scheduler", schedules=[{"name": "reconcile", "enabled": False, "persisted": False}]
        ),
        set(),
    ),
    (
        "12-pass-in-memory-on-one-node",
        chain(
            on_all("scheduler", schedules=[]),
            on("idm2", "scheduler", schedules=[{"name": "r", "enabled": True, "persisted": False}]),
        ),
        set(),
    ),
    (
        "12-nobody-executes",
        on_all("scheduler", execute_persistent=False),
        {("persisted-schedules", E, ALL3)},
    ),
    (
        "12-only-standby-executes",
        chain(
            on_all("scheduler", execute_persistent=False),
            on("idm3", "scheduler", execute_persistent=True),
            set_node("idm3", standby=True),
        ),
        {("persisted-schedules", E, ALL3)},
    ),
    (
        "12-pass-one-executor",
        chain(
            on_all("scheduler", execute_persistent=False),
            on("idm2", "scheduler", execute_persistent=True),
        ),
        set(),
    ),
    (
        "12-execute-ill-typed",
        on("idm2", "scheduler", execute_persistent="true"),
        {("persisted-schedules", E, ("idm2",))},
    ),
    (
        "12-standby-missing",
        lambda d: node(d, "idm2").pop("standby"),
        {("persisted-schedules", E, ("idm2",))},
    ),
]

# --- issue 14: bad input the invariants used to accept --------------------------------------------
ISSUE_14_CASES: list[tuple[str, Callable[[Desc], None], set[tuple[str, str, tuple[str, ...]]]]] = [
    # 1 node-id: reuse of a node ID the cluster table holds as another, down instance
    (
        "1-renamed-into-a-down-instance",
        chain(fact("idm2", node_id="old2"), rows(("node1", "running"), ("node2", "down"))),
        {("node-id", W, ("idm2",)), ("node-id", E, ("idm2",))},
    ),
    (
        "1-new-host-takes-a-down-id",
        chain(
            with_facts,
            lambda d: d["facts"].pop("idm3"),
            rows(("node1", "running"), ("node2", "running"), ("node3", "down")),
        ),
        {("node-id", W, ("idm3",))},
    ),
    (
        "1-pass-stopped-node-keeps-its-id",
        chain(with_facts, rows(("node1", "running"), ("node2", "down"), ("node3", "running"))),
        set(),
    ),
    # 2 one-repository: loopback repository across machines, admin user as IDM user
    (
        "2-loopback-repository",
        on_all("repository", host="localhost"),
        {("one-repository", E, ALL3)},
    ),
    ("2-loopback-v4", on_all("repository", host="127.0.1.1"), {("one-repository", E, ALL3)}),
    ("2-loopback-v6", on_all("repository", host="::1"), {("one-repository", E, ALL3)}),
    (
        "2-loopback-by-inventory-address",
        on_all("repository", address="127.0.0.1"),
        {("one-repository", E, ALL3)},
    ),
    (
        "2-pass-loopback-on-one-machine",
        chain(
            on_all("repository", host="127.0.0.1"),
            *(
                chain(
                    set_node(h, machine="box"),
                    on(
                        h,
                        "ports",
                        http=8080 + 10 * i,
                        https=8443 + 10 * i,
                        mutualauth=8444 + 10 * i,
                    ),
                    listeners(h, {**HTTP, "port": 8080 + 10 * i}, {**HTTPS, "port": 8443 + 10 * i}),
                )
                for i, h in enumerate(ALL3)
            ),
        ),
        set(),
    ),
    (
        "2-user-is-admin-user",
        on_all("repository", user="postgres"),
        {("one-repository", E, ALL3)},
    ),
    (
        "2-user-is-admin-user-case",
        on_all("repository", user="openidm", admin_user="OpenIDM"),
        {("one-repository", E, ALL3)},
    ),
    ("2-pass-no-admin-login", on_all("repository", user="postgres", admin_user=""), set()),
    # 5 cluster-settings: offset and absurd timings
    (
        "5-offset-not-below-timeout",
        on_all("cluster", instanceCheckInOffset=30000),
        {("cluster-settings", E, ALL3)},
    ),
    (
        "5-interval-1-ms",
        on_all("cluster", instanceCheckInInterval=1),
        {("cluster-settings", E, ALL3)},
    ),
    (
        "5-timeout-beyond-a-day",
        on_all("cluster", instanceTimeout=10**9),
        {("cluster-settings", E, ALL3)},
    ),
    (
        "5-pass-bounds",
        on_all(
            "cluster",
            instanceCheckInInterval=100,
            instanceTimeout=86_400_000,
            instanceRecoveryTimeout=86_400_000,
            instanceCheckInOffset=86_399_999,
        ),
        set(),
    ),
    # 7 ports: listener http on another port, privileged ports, load balancer clashes, aliases
    (
        "7-http-listener-not-on-http-port",
        listeners("idm2", {**HTTP, "port": 8081}, HTTPS),
        {("ports", E, ("idm2",))},
    ),
    (
        "7-https-listener-not-on-https-port",
        listeners("idm2", HTTP, {**HTTPS, "port": 9443}),
        {("ports", E, ("idm2",))},
    ),
    (
        "7-pass-other-listener-name",
        listeners(
            "idm2", HTTP, HTTPS, {"name": "api", "port": 9090, "secure": False, "enabled": True}
        ),
        set(),
    ),
    (
        "7-privileged-port",
        chain(on("idm2", "ports", http=80), listeners("idm2", {**HTTP, "port": 80}, HTTPS)),
        {("ports", E, ("idm2",))},
    ),
    (
        "7-privileged-listener",
        listeners(
            "idm2", HTTP, HTTPS, {"name": "legacy", "port": 443, "secure": True, "enabled": True}
        ),
        {("ports", E, ("idm2",))},
    ),
    (
        "7-pass-privileged-as-root",
        chain(
            set_node("idm2", service_user="root"),
            on("idm2", "ports", http=80),
            listeners("idm2", {**HTTP, "port": 80}, HTTPS),
        ),
        set(),
    ),
    (
        "7-node-and-balancer-share-a-port",
        balancer(machine="10.0.0.1", ports={**LB_PORTS, "stats": 8443}),
        {("ports", E, ("idm1", "lb1"))},
    ),
    (
        "7-balancer-on-a-node-host",
        chain(
            lambda d: d["loadbalancers"].update(idm1=d["loadbalancers"].pop("lb1")),
            lambda d: d["loadbalancers"]["idm1"].update(
                machine="10.0.0.1", ports={**LB_PORTS, "http": 8080}
            ),
        ),
        {("ports", E, ("idm1",))},
    ),
    ("7-pass-balancer-beside-a-node", balancer(machine="10.0.0.1", ports=LB_PORTS), set()),
    (
        "7-pass-balancer-https-off",
        balancer(machine="lbhost", ports={**LB_PORTS, "https": 0}),
        set(),
    ),
    (
        "7-balancer-port-bool",
        balancer(machine="lbhost", ports={**LB_PORTS, "http": True}),
        {("ports", E, ("lb1",))},
    ),
    (
        "7-one-machine-two-aliases",
        chain(set_node("idm3", machine="idm1"), on("idm3", "ports", http=8080, https=8443)),
        {("ports", E, ("idm1", "idm3"))},
    ),
    # 9 loadbalancer-backends: a backend twice
    (
        "9-backend-twice",
        lambda d: d["loadbalancers"]["lb1"]["backends"].append("idm2"),
        {("loadbalancer-backends", E, ("idm2", "lb1"))},
    ),
    # 12 persisted-schedules: names that are not file names
    (
        "12-duplicate-schedule-name",
        schedules("idm2", "r", "r"),
        {("persisted-schedules", E, ("idm2",))},
    ),
    ("12-path-schedule-name", schedules("idm2", "../r"), {("persisted-schedules", E, ("idm2",))}),
    ("12-slash-schedule-name", schedules("idm2", "a/b"), {("persisted-schedules", E, ("idm2",))}),
    ("12-glob-schedule-name", schedules("idm2", "r*"), {("persisted-schedules", E, ("idm2",))}),
    ("12-pass-schedule-names", schedules("idm2", "reconcile", "sync.users-1"), set()),
    # 13 own-installation
    (
        "13-two-aliases-one-home",
        chain(
            set_node("idm3", machine="idm1", home="/opt/idm1/openidm"),
            on("idm3", "ports", http=9080, https=9443, mutualauth=9444),
            listeners("idm3", {**HTTP, "port": 9080}, {**HTTPS, "port": 9443}),
        ),
        {("own-installation", E, ("idm1", "idm3"))},
    ),
    (
        "13-same-machine-same-service",
        chain(
            set_node("idm3", machine="10.0.0.1", service="openidm1"),
            on("idm3", "ports", http=9080, https=9443, mutualauth=9444),
            listeners("idm3", {**HTTP, "port": 9080}, {**HTTPS, "port": 9443}),
        ),
        {("own-installation", E, ("idm1", "idm3"))},
    ),
    (
        "13-pass-same-machine-own-installation",
        chain(
            set_node("idm3", machine="10.0.0.1"),
            on("idm3", "ports", http=9080, https=9443, mutualauth=9444),
            listeners("idm3", {**HTTP, "port": 9080}, {**HTTPS, "port": 9443}),
        ),
        set(),
    ),
    ("13-home-ill-typed", set_node("idm2", home=1), {("own-installation", E, ("idm2",))}),
]
CASES += ISSUE_14_CASES

# 14 certificate-expiry (issue 16): the given file and the served certificate vs the threshold
ISSUE_16_CASES: list[tuple[str, Callable[[Desc], None], set]] = [
    ("14-pass-no-section", lambda d: [n.pop("certificate") for n in d["nodes"].values()], set()),
    ("14-pass-fresh-file", on_all("certificate", source="files", file_days_left=31), set()),
    (
        "14-given-file-within-threshold",
        on_all("certificate", source="files", file_days_left=29),
        {("certificate-expiry", E, ALL3)},
    ),
    (
        "14-given-file-expired",
        on_all("certificate", source="files", file_days_left=-3),
        {("certificate-expiry", E, ALL3)},
    ),
    ("14-pass-served-at-threshold", fact("idm2", certificate_days_left=30), set()),
    (
        "14-generated-served-within-threshold-is-renewed",
        fact("idm2", certificate_days_left=29),
        {("certificate-expiry", W, ("idm2",))},
    ),
    (
        "14-files-served-expired-given-fresh",
        chain(
            on_all("certificate", source="files", file_days_left=400),
            fact("idm3", certificate_days_left=-1),
        ),
        {("certificate-expiry", W, ("idm3",))},
    ),
    (
        "14-keystore-served-within-threshold",
        chain(on_all("certificate", source="keystore"), fact("idm1", certificate_days_left=5)),
        {("certificate-expiry", W, ("idm1",))},
    ),
    (
        "14-keystore-served-expired",
        chain(on_all("certificate", source="keystore"), fact("idm1", certificate_days_left=-5)),
        {("certificate-expiry", E, ("idm1",))},
    ),
    (
        "14-pass-no-tls-listener",
        chain(
            listeners("idm1", HTTP),
            on("idm1", "certificate", source="files", file_days_left=-5),
        ),
        set(),
    ),
    (
        "14-ill-typed",
        on("idm2", "certificate", renew_days=True, source="acme"),
        {("certificate-expiry", E, ("idm2",))},
    ),
    (
        "14-fact-ill-typed",
        fact("idm2", certificate_days_left="29"),
        {("certificate-expiry", E, ("idm2",))},
    ),
    ("14-not-a-section", set_node("idm2", certificate=[]), {("certificate-expiry", E, ("idm2",))}),
]
CASES += ISSUE_16_CASES


@pytest.mark.parametrize(("change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(change: Callable[[Desc], None], expected: set) -> None:
    desc = make_cluster(3)
    change(desc)
    assert verdict(desc) == expected


def test_every_rule_has_a_passing_and_a_failing_case() -> None:
    failing = {rule for _, _, expected in CASES for rule, _, _ in expected}
    passing = {int(name.split("-")[0].rstrip("c")) for name, _, expected in CASES if not expected}
    assert failing == set(RULES) and len(RULES) == len(REGISTERED)
    assert passing == {rule.number for rule in REGISTERED}


def test_valid_cluster_with_facts_is_clean() -> None:
    assert cluster_invariants(make_cluster(3, facts=True)) == []


@pytest.mark.parametrize("count", [1, 2, 7])
def test_valid_clusters_of_other_sizes_are_clean(count: int) -> None:
    assert cluster_invariants(make_cluster(count, facts=True)) == []


def test_violation_shape_and_order() -> None:
    desc = make_cluster(3)
    set_node("idm2", node_id="node1")(desc)
    set_node("idm3", version="8.0.0")(desc)
    on("idm1", "ports", http=0)(desc)
    result = cluster_invariants(desc)
    assert [v["number"] for v in result] == [1, 6, 7]
    first = result[0]
    assert set(first) == {"rule", "number", "severity", "hosts", "message", "fix"}
    assert first["rule"] == "node-id" and first["hosts"] == ["idm1", "idm2"]
    assert "'node1'" in first["message"] and "idm1, idm2" in first["message"]
    assert all(isinstance(v["fix"], str) and v["fix"] for v in result)


def test_drift_message_says_what_the_run_does() -> None:
    desc = make_cluster(3, facts=True)
    fact("idm3", keystore_sha256="9" * 64)(desc)
    (warning,) = cluster_invariants(desc)
    assert "keystore" in warning["message"] and "idm3" in warning["message"]
    assert "copies the majority" in warning["message"]
    desc = make_cluster(2, facts=True)
    fact("idm2", keystore_sha256="9" * 64)(desc)
    (error,) = cluster_invariants(desc)
    assert "[idm1] vs [idm2]" in error["message"] and "authoritative" in error["fix"]


def test_datasource_drift_message_says_rewrite() -> None:
    desc = make_cluster(3, facts=True)
    fact("idm2", datasource_sha256="e" * 64)(desc)
    (warning,) = cluster_invariants(desc)
    assert "rewrites" in warning["message"]


@pytest.mark.parametrize(
    "description",
    [None, "nodes", 42, [], {"nodes": []}, {"nodes": {"idm1": None}}, {"nodes": {"idm1": "x"}}],
)
def test_malformed_descriptions_are_reported_not_raised(description: object) -> None:
    result = cluster_invariants(description)
    assert result and all(v["severity"] == "error" for v in result)


def test_every_field_missing_is_reported_per_rule() -> None:
    result = cluster_invariants({"nodes": {"idm1": {}}, "bootstrap_node": "idm1"})
    numbers = {v["number"] for v in result}
    assert numbers == {1, 2, 4, 5, 6, 7, 8, 10, 12}
    assert all(v["hosts"] == ["idm1"] for v in result)


def test_malformed_optional_sections() -> None:
    desc = make_cluster(3)
    desc.update(facts=[1], loadbalancers="lb1", repository_instances={"id": "x"})
    assert verdict(desc) == {
        ("one-keystore", E, ()),
        ("loadbalancer-backends", E, ()),
        ("no-foreign-instance", E, ()),
    }
    desc = make_cluster(3)
    desc.update(facts={"idm1": "x"}, repository_instances=[{"state": "running"}, "x"])
    assert verdict(desc) == {("one-keystore", E, ("idm1",)), ("no-foreign-instance", E, ())}


def test_unknown_fields_are_not_echoed() -> None:
    desc = make_cluster(3)
    node(desc, "idm2")["repository"]["password"] = "s3cret-value"
    node(desc, "idm2")["repository"]["port"] = "bad"
    desc["facts"] = {"idm2": {"admin_password": "s3cret-value", "keystore_sha256": 1}}
    text = repr(cluster_invariants(desc))
    assert "s3cret-value" not in text


def test_large_host_lists_are_shortened_in_messages() -> None:
    desc = make_cluster(40)
    on_all("config", repo_enabled=False, fileinstall_enabled=False)(desc)
    (violation,) = cluster_invariants(desc)
    assert len(violation["hosts"]) == 40
    assert "and 30 more" in violation["message"]


def test_filter_is_registered() -> None:
    assert FilterModule().filters() == {"cluster_invariants": cluster_invariants}


def test_input_is_not_modified() -> None:
    desc = make_cluster(3, facts=True)
    set_node("idm2", node_id="node1")(desc)
    before = clone(desc)
    cluster_invariants(desc)
    assert desc == before


def test_other_node_builder_is_valid_on_its_own() -> None:
    desc = make_cluster(2)
    desc["nodes"]["idm9"] = make_node(8)
    desc["loadbalancers"]["lb1"]["backends"].append("idm9")
    assert cluster_invariants(desc) == []


def test_same_problem_on_many_hosts_is_one_violation() -> None:
    desc = make_cluster(30)
    on_all("repository", port="5432")(desc)
    (violation,) = cluster_invariants(desc)
    assert violation["rule"] == "one-repository" and len(violation["hosts"]) == 30
    assert violation["message"].endswith(
        "repository.port must be an integer from 1 to 65535 (got '5432')"
    )
    assert "repository.port" in violation["fix"]


@pytest.mark.parametrize(
    ("installed", "upgrade", "words"),
    [
        (
            "8.0.0",
            False,
            ["runs IDM 8.0.0 and the inventory says 8.1.0 outside an upgrade", "upgrade.yml"],
        ),
        ("8.2.0", True, ["an older release", "restore.yml"]),
        ("7.5.0", True, ["another major version", "within PingIDM 8"]),
    ],
)
def test_version_change_messages(installed: str, upgrade: bool, words: list[str]) -> None:
    desc = make_cluster(3, facts=True)
    desc["upgrade"] = upgrade
    desc["facts"]["idm2"]["installed_version"] = installed
    found = [v for v in cluster_invariants(desc) if v["rule"] == "one-version"]
    assert len(found) == 1 and found[0]["hosts"] == ["idm2"]
    text = found[0]["message"] + " " + found[0]["fix"]
    assert all(word in text for word in words), text
