"""Bad input: site.yml refuses invalid inventories and variables before it touches any host.

Every case runs ``ansible-playbook idm_automation.cluster.site`` (the collection installed in
``ANSIBLE_COLLECTIONS_PATH``, as users run it) with a generated inventory and asserts that the run
fails in the preflight play with a message that names the host(s), the problem and the fix.

"Before any change" is made provable: every IDM host (nodes, load balancers, standalone
instances) is deliberately unreachable (``ssh`` to ``127.0.0.1`` port 1: connection refused on
loopback). Any task that tried to touch one would report it ``unreachable``, so a PLAY RECAP with
``unreachable=0`` and ``changed=0`` for every host proves that nothing was contacted. The two
baseline tests run the same harness with a valid inventory and show the opposite: it passes every
inventory check and only fails when it first tries to reach a node, proving that the cases fail
because of their defect and not because of the harness.

The only reachable host is the optional ``idm_repository`` host ``repo`` (``ansible_connection:
local``), present only in the cases that need it: the repository probe delegates there and opens
a TCP connection to ``idm_repo_host:idm_repo_port`` (127.0.0.1, a closed or a test-owned port).

Each run takes about 5 s of CPU, so the selected cases run in parallel (a pool of 4 to 8
ansible-playbook processes, started when the first test asks for its result). A last test checks
that the installed collection matches this checkout's roles, playbooks and plugins, since the
cases say nothing about a stale build.

    ANSIBLE_COLLECTIONS_PATH=... .venv/bin/python -m pytest -q tests/integration
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from installed_collection import ANSIBLE_PLAYBOOK, BASE_ENV, UNREACHABLE_HOST, find_collection

REPO_ROOT = Path(__file__).resolve().parents[2]
PREFLIGHT_PLAY = "Check the cluster invariants before any host is touched"
RUN_TIMEOUT = 300

# Distinct, recognisable secret values: none may ever appear in the output.
SECRETS = {
    "idm_repo_password": "RepoPw-7f3a9c41-do-not-print",
    "idm_keystore_password": "KeystorePw-2b8e5d07-do-not-print",
    "idm_admin_password": "AdminPw-91c4e6aa-do-not-print",
    "idm_metrics_password": "MetricsPw-3c1d-do-not-print",
}

# Tasks that refuse bad input in the preflight play (the fatal task's name ends with one of them).
ARGSPEC = "Validating arguments against arg spec"
INPUTS = "Refuse the inputs"
INVARIANTS = "Refuse the cluster description"
REPOSITORY = "Refuse an unreachable repository"


COLLECTION, NOT_INSTALLED = find_collection()
pytestmark = pytest.mark.skipif(COLLECTION is None, reason=NOT_INSTALLED)


# --- Inventory ------------------------------------------------------------------------------------

NODES = ("idm1", "idm2", "idm3")


def node_ports(index: int) -> dict[str, Any]:
    """Distinct ports, installation directory and service per node: they all share the machine
    127.0.0.1 (rules 7 and 13)."""
    base = 8000 + 1000 * index
    return {
        "idm_port_http": base + 80,
        "idm_port_https": base + 443,
        "idm_port_mutualauth": base + 444,
        "idm_home": f"/opt/idm-test/idm{index}/openidm",
        "idm_service_name": f"openidm{index}",
    }


def base_inventory(zip_path: Path, repo_port: int) -> dict[str, Any]:
    """A valid three-node inventory whose hosts all refuse connections."""
    return {
        "all": {
            "vars": {
                # Every IDM host is unreachable on purpose (connection refused on loopback).
                **UNREACHABLE_HOST,
                "idm_distribution_src": str(zip_path),
                "idm_repo_host": "127.0.0.1",
                "idm_repo_port": repo_port,
                "idm_public_hostname": "idm.example.com",
                **SECRETS,
            },
            "children": {
                "idm_nodes": {"hosts": {name: node_ports(i) for i, name in enumerate(NODES)}},
            },
        }
    }


def hosts(inv: dict, group: str) -> dict[str, dict]:
    children = inv["all"]["children"]
    children.setdefault(group, {"hosts": {}})
    return children[group]["hosts"]


def node(inv: dict, name: str) -> dict:
    return hosts(inv, "idm_nodes")[name]


def all_vars(inv: dict) -> dict:
    return inv["all"]["vars"]


def add_repository_host(inv: dict) -> None:
    """The DDL host: local, so that the repository probe really opens a TCP connection."""
    hosts(inv, "idm_repository")["repo"] = {
        "ansible_connection": "local",
        "ansible_become": False,
        "ansible_python_interpreter": sys.executable,
    }


# --- Cases ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    change: Callable[[dict], None]
    task: str  # the preflight task that must refuse the input
    expect: tuple[str, ...]  # strings the failure must contain: host(s), problem, fix
    repo_port: str = "closed"  # "closed" or "open" (a port this test listens on)
    limit: str | None = None  # ansible-playbook --limit


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict], None]:
    """A change that sets one variable: ('all', var) or (node name, var)."""

    def change(inv: dict) -> None:
        where, var = path
        target = all_vars(inv) if where == "all" else node(inv, where)
        target[var] = value

    return change


def _chain(*changes: Callable[[dict], None]) -> Callable[[dict], None]:
    def change(inv: dict) -> None:
        for one in changes:
            one(inv)

    return change


def _del(var: str) -> Callable[[dict], None]:
    return lambda inv: all_vars(inv).pop(var)


def _standalone_on_repo(inv: dict) -> None:
    hosts(inv, "idm_standalone")["dev1"] = node_ports(5)


def _tls_files_for(name: str) -> Callable[[dict], None]:
    """idm_tls_certificate_source files with a certificate for ``name`` only (written next to the
    test's inventory, read by preflight on the controller)."""

    def change(inv: dict) -> None:
        import datetime
        import tempfile

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256())
        )
        folder = Path(tempfile.mkdtemp(prefix="idm-tls-files-"))
        (folder / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file = folder / "server.key"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_file.chmod(0o600)
        target = all_vars(inv)
        target["idm_tls_certificate_source"] = "files"
        target["idm_tls_cert_src"] = str(folder / "server.crt")
        target["idm_tls_key_src"] = str(key_file)

    return change


def _lb_missing_backend(inv: dict) -> None:
    hosts(inv, "idm_loadbalancers")["lb1"] = {"idm_lb_backends": ["idm1", "idm2"]}


def _port_clash(inv: dict) -> None:
    node(inv, "idm2").update(node_ports(0))


def _unreachable_repository(inv: dict) -> None:
    add_repository_host(inv)


def _lb_unknown_backend(inv: dict) -> None:
    hosts(inv, "idm_loadbalancers")["lb1"] = {"idm_lb_backends": [*NODES, "idm7"]}


def _host_names_differ_only_in_case(inv: dict) -> None:
    hosts(inv, "idm_nodes")["IDM1"] = node_ports(4)


def _standalone_port_clash(inv: dict) -> None:
    hosts(inv, "idm_standalone")["dev1"] = {**node_ports(1), "idm_repo_database": "openidm_dev"}


def _on_another_machine(name: str) -> Callable[[dict], None]:
    """Move one node to another loopback address (still unreachable: nothing listens on port 1)."""
    return _set((name, "ansible_host"), "127.0.0.2")


def _repository_host_named(inv: dict) -> None:
    """idm_repo_host names an inventory host whose ansible_host is a loopback address."""
    hosts(inv, "idm_repository")["pgbox"] = {"ansible_host": "127.0.0.1"}
    all_vars(inv)["idm_repo_host"] = "pgbox"


def _balancer_on_a_node(inv: dict) -> None:
    """idm1 is a node and a load balancer, whose HTTP port is idm1's idm_port_http."""
    hosts(inv, "idm_loadbalancers")["idm1"] = {}
    node(inv, "idm1")["idm_lb_http_port"] = 8080


def _alias_of_idm1(inv: dict) -> None:
    """idm4's ansible_host is idm1's inventory name: one machine, one installation, twice."""
    hosts(inv, "idm_nodes")["idm4"] = {**node_ports(0), "ansible_host": "idm1"}


def _backend_twice(inv: dict) -> None:
    hosts(inv, "idm_loadbalancers")["lb1"] = {"idm_lb_backends": [*NODES, "idm2"]}


def _schedules(*names: str) -> Callable[[dict], None]:
    return _set(("all", "idm_schedules"), [{"name": n, "persisted": True} for n in names])


CASES = [
    Case(
        "duplicate-node-ids",
        _chain(_set(("idm1", "idm_node_id"), "node1"), _set(("idm3", "idm_node_id"), "node1")),
        INVARIANTS,
        ("rule 1", "idm1", "idm3", "'node1'", "Fix:", "idm_node_id"),
    ),
    Case(
        "node-ids-differ-only-in-case",
        _chain(_set(("idm1", "idm_node_id"), "node1"), _set(("idm2", "idm_node_id"), "NODE1")),
        INVARIANTS,
        ("rule 1", "idm1", "idm2", "differ only in case", "Fix:", "idm_node_id"),
    ),
    Case(
        "empty-node-id",
        _set(("idm2", "idm_node_id"), ""),
        INVARIANTS,
        ("rule 1", "idm2", "Fix:", "idm_node_id"),
    ),
    Case(
        "illegal-characters-in-node-id",
        _set(("idm2", "idm_node_id"), "node 2/ü"),
        INVARIANTS,
        ("rule 1", "idm2", "node 2/ü", "Fix:"),
    ),
    Case(
        "two-repositories-host",
        _set(("idm3", "idm_repo_host"), "127.0.0.2"),
        INVARIANTS,
        ("rule 2", "idm3", "127.0.0.2", "repository", "Fix:"),
    ),
    Case(
        "two-repositories-database",
        _set(("idm2", "idm_repo_database"), "openidm_other"),
        INVARIANTS,
        ("rule 2", "idm2", "openidm_other", "Fix:"),
    ),
    Case(
        "standalone-on-cluster-repository",
        _standalone_on_repo,
        INVARIANTS,
        ("rule 3", "dev1", "repository", "Fix:", "own repository"),
    ),
    Case(
        "cluster-disabled-on-a-node",
        _set(("idm2", "idm_cluster_enabled"), False),
        INVARIANTS,
        ("rule 5", "idm2", "enabled", "Fix:"),
    ),
    Case(
        "instance-timeout-below-twice-checkin",
        _set(("all", "idm_cluster_instance_timeout"), 9000),
        INVARIANTS,
        ("rule 5", "idm1", "idm2", "idm3", "instanceTimeout", "9000", "Fix:"),
    ),
    Case(
        "two-idm-versions",
        _set(("idm3", "idm_version"), "8.0.0"),
        INVARIANTS,
        ("rule 6", "idm3", "'8.0.0'", "Fix:"),
    ),
    Case(
        "port-clash-on-one-machine",
        _port_clash,
        INVARIANTS,
        ("rule 7", "idm1", "idm2", "127.0.0.1", "8080", "Fix:"),
    ),
    Case(
        "port-out-of-range",
        _set(("idm2", "idm_port_http"), 70000),
        INVARIANTS,
        ("rule 7", "idm2", "70000", "65535", "Fix:"),
    ),
    Case(
        "wrong-type-caught-by-argument-specs",
        _set(("all", "idm_repo_port"), "abc"),
        ARGSPEC,
        ("idm1", "idm_repo_port", "int"),
    ),
    Case(
        "node-id-source-not-a-choice",
        _set(("all", "idm_node_id_source"), "environment"),
        ARGSPEC,
        ("idm1", "idm_node_id_source", "boot_properties", "opts", "environment"),
    ),
    Case(
        "certificate-does-not-cover-public-hostname",
        _chain(
            _set(("all", "idm_tls_certificate_source"), "keystore"),
            _set(("all", "idm_tls_certificate_names"), ["other.example.com"]),
        ),
        INVARIANTS,
        ("rule 8", "idm1", "idm.example.com", "other.example.com", "Fix:"),
    ),
    Case(
        "given-certificate-does-not-cover-public-hostname",
        _tls_files_for("other.example.com"),
        INVARIANTS,
        ("rule 8", "idm1", "idm.example.com", "other.example.com", "Fix:"),
    ),
    Case(
        "load-balancer-misses-a-node",
        _lb_missing_backend,
        INVARIANTS,
        ("rule 9", "lb1", "idm3", "Fix:", "backends"),
    ),
    Case(
        "bootstrap-node-not-a-member",
        _set(("all", "idm_bootstrap_node"), "idm9"),
        INVARIANTS,
        ("rule 11", "idm9", "not a node", "Fix:"),
    ),
    Case(
        "schedule-not-persisted-on-several-nodes",
        _set(("all", "idm_schedules"), [{"name": "reconcile", "enabled": True}]),
        INVARIANTS,
        ("rule 12", "idm1", "idm2", "idm3", "'reconcile'", "not persisted", "Fix:"),
    ),
    Case(
        "config-object-written-by-the-collection",
        _set(("all", "idm_config_objects"), {"cluster": {"enabled": True}, "sync": []}),
        "Describe this cluster node",
        ("configuration as code", "cluster is written by the collection", "sync", "Fix:"),
    ),
    Case(
        "config-objects-differ-per-host",
        _set(("idm2", "idm_config_objects"), {"sync": {"mappings": []}}),
        INVARIANTS,
        ("rule 5", "idm2", "configuration objects deployed as code", "Fix:", "group_vars"),
    ),
    Case(
        "connector-url-without-checksum",
        _set(("all", "idm_connectors"), [{"url": "http://127.0.0.1:1/ldap.jar"}]),
        INPUTS,
        ("idm1", "idm_connectors", "checksum", "Fix:"),
    ),
    Case(
        "distribution-url-without-checksum",
        _chain(
            _del("idm_distribution_src"),
            _set(("all", "idm_distribution_url"), "http://127.0.0.1:1/IDM-8.1.0.zip"),
        ),
        INPUTS,
        ("idm1", "idm2", "idm3", "idm_distribution_checksum", "Fix:", "sha256"),
    ),
    Case(
        "both-distribution-sources",
        _chain(
            _set(("all", "idm_distribution_url"), "http://127.0.0.1:1/IDM-8.1.0.zip"),
            _set(("all", "idm_distribution_checksum"), "sha256:" + "0" * 64),
        ),
        INPUTS,
        ("idm1", "idm_distribution_src", "idm_distribution_url", "not both", "Fix:"),
    ),
    Case(
        "no-distribution-source",
        _del("idm_distribution_src"),
        INPUTS,
        ("idm1", "idm_distribution_src", "idm_distribution_url", "not neither", "Fix:"),
    ),
    Case(
        "provided-secrets-without-files",
        _set(("all", "idm_secrets_mode"), "provided"),
        INPUTS,
        ("idm1", "idm2", "idm3", "provided", "idm_keystore_src", "idm_truststore_src", "Fix:"),
    ),
    Case(
        "provided-secrets-files-missing",
        _chain(
            _set(("all", "idm_secrets_mode"), "provided"),
            _set(("all", "idm_keystore_src"), "/nonexistent/keystore.jceks"),
            _set(("all", "idm_truststore_src"), "/nonexistent/truststore"),
        ),
        INPUTS,
        ("idm1", "/nonexistent/keystore.jceks", "does not exist", "Fix:"),
    ),
    Case(
        "missing-admin-password",
        _del("idm_admin_password"),
        INPUTS,
        ("idm1", "idm2", "idm3", "a required secret is missing: idm_admin_password", "Fix:"),
    ),
    Case(
        "metrics-without-password",
        _chain(_del("idm_metrics_password"), _set(("all", "idm_metrics_enabled"), True)),
        INPUTS,
        ("idm1", "idm2", "idm3", "idm_metrics_enabled is true but idm_metrics_password", "Fix:"),
    ),
    Case(
        "metrics-password-is-the-product-default",
        _chain(
            _set(("all", "idm_metrics_enabled"), True),
            _set(("all", "idm_metrics_password"), "prometheus"),
        ),
        INPUTS,
        ("idm1", "the product's default (prometheus)", "Fix:"),
    ),
    Case(
        "metrics-password-breaks-boot-properties",
        _chain(
            _set(("all", "idm_metrics_enabled"), True),
            _set(("idm2", "idm_metrics_password"), "MetricsPw-with\\backslash"),
        ),
        INPUTS,
        ("idm2", "backslash or white space", "Fix:"),
    ),
    Case(
        "metrics-listener-unknown",
        _chain(
            _set(("all", "idm_metrics_enabled"), True),
            _set(("all", "idm_metrics_listener"), "admin"),
        ),
        INPUTS,
        ("idm1", "idm_metrics_listener admin is not an enabled listener", "http, https", "Fix:"),
    ),
    Case(
        "missing-repository-host",
        _del("idm_repo_host"),
        INPUTS,
        ("idm1", "idm_repo_host is not set", "Fix:"),
    ),
    Case(
        "repository-ssl-mode-unknown",
        _set(("all", "idm_repo_ssl_mode"), "verify_full"),
        INPUTS,
        ("idm1", 'idm_repo_ssl_mode "verify_full" is not an sslmode', "verify-full", "Fix:"),
    ),
    Case(
        "repository-verify-full-without-ca",
        _set(("all", "idm_repo_ssl_mode"), "verify-full"),
        INPUTS,
        ("idm1", "is verify-full but no CA is given", "idm_repo_ssl_ca_src", "Fix:"),
    ),
    Case(
        "repository-ca-without-verification",
        _chain(
            _set(("all", "idm_repo_ssl_mode"), "require"),
            _set(("all", "idm_repo_ssl_ca_path"), "/etc/ssl/pg-ca.pem"),
        ),
        INPUTS,
        ("idm1", "a repository CA is given but idm_repo_ssl_mode is", "verify-full", "Fix:"),
    ),
    Case(
        "repository-ca-src-missing",
        _chain(
            _set(("all", "idm_repo_ssl_mode"), "verify-ca"),
            _set(("all", "idm_repo_ssl_ca_src"), "/nonexistent/pg-ca.pem"),
        ),
        INPUTS,
        ("idm1", "/nonexistent/pg-ca.pem is not a file on the controller", "Fix:"),
    ),
    Case(
        "repository-jdbc-parameters-tls",
        _set(("all", "idm_repo_jdbc_parameters"), {"sslmode": "disable"}),
        INPUTS,
        ("idm1", "idm_repo_jdbc_parameters must be a mapping", "sslmode", "Fix:"),
    ),
    Case(
        "configuration-mode-differs",
        _set(("idm2", "idm_config_fileinstall_enabled"), False),
        INVARIANTS,
        ("rule 5", "idm2", "fileinstall_enabled", "Fix:"),
    ),
    Case(
        "node-id-in-jvm-options-differs",
        _set(("idm2", "idm_jvm_options"), ["-Dopenidm.node.id=other"]),
        INVARIANTS,
        ("rule 10", "idm2", "-Dopenidm.node.id", "Fix:"),
    ),
    Case(
        "shared-secrets-relative-paths",
        _chain(
            _set(("all", "idm_secrets_mode"), "shared"),
            _set(("all", "idm_shared_keystore_path"), "keystore.jceks"),
            _set(("all", "idm_shared_truststore_path"), "truststore"),
        ),
        INPUTS,
        ("idm1", "shared", "absolute path", "Fix:"),
    ),
    Case(
        "log-dir-relative",
        _set(("all", "idm_log_dir"), "logs"),
        INPUTS,
        ("idm1", "idm_log_dir", "absolute path", "Fix:"),
    ),
    Case(
        "log-file-limit-too-small",
        _set(("idm2", "idm_log_file_limit"), 100),
        INPUTS,
        ("idm2", "idm_log_file_limit", "at least 1024", "Fix:"),
    ),
    Case(
        "log-file-count-above-logback-window",
        _set(("all", "idm_log_file_count"), 50),
        INPUTS,
        ("idm1", "idm_log_file_count", "1 to 20", "Fix:"),
    ),
    Case(
        "logger-level-unknown",
        _set(("all", "idm_log_loggers"), {"org.forgerock.openidm.repo": "LOUD"}),
        INPUTS,
        ("idm1", "log level", "LOUD", "Fix:"),
    ),
    Case(
        "load-balancer-has-an-unknown-backend",
        _lb_unknown_backend,
        INVARIANTS,
        ("rule 9", "lb1", "idm7", "Fix:"),
    ),
    Case(
        "host-names-differ-only-in-case",
        _host_names_differ_only_in_case,
        INVARIANTS,
        ("rule 1", "IDM1", "idm1", "differ only in case", "Fix:", "idm_node_id"),
    ),
    Case(
        "repository-port-zero",
        _set(("all", "idm_repo_port"), 0),
        INVARIANTS,
        ("rule 2", "idm1", "repository.port", "65535", "Fix:"),
    ),
    Case(
        "standalone-shares-ports-with-a-node",
        _standalone_port_clash,
        INVARIANTS,
        ("rule 7", "dev1", "idm2", "127.0.0.1", "9080", "Fix:"),
    ),
    Case(
        "schedules-not-a-list",
        _set(("all", "idm_schedules"), "reconcile"),
        ARGSPEC,
        ("idm1", "idm_schedules"),
    ),
    # --- issue 14 ---------------------------------------------------------------------------------
    Case(
        "loopback-repository-for-nodes-on-two-machines",
        _on_another_machine("idm2"),
        INVARIANTS,
        (
            "rule 2",
            "idm1",
            "idm2",
            "idm3",
            "'127.0.0.1' is a loopback address",
            "2 machines",
            "Fix:",
            "idm_repo_host",
        ),
    ),
    Case(
        "repository-host-mapped-to-loopback",
        _chain(_on_another_machine("idm3"), _repository_host_named),
        INVARIANTS,
        ("rule 2", "idm1", "'pgbox'", "ansible_host '127.0.0.1'", "Fix:"),
    ),
    Case(
        "repository-user-is-the-admin-user",
        _chain(
            _set(("all", "idm_repo_admin_user"), "postgres"),
            _set(("all", "idm_repo_admin_password"), "AdminDbPw-not-a-secret-here"),
            _set(("all", "idm_repo_user"), "postgres"),
        ),
        INVARIANTS,
        ("rule 2", "idm1", "'postgres'", "idm_repo_admin_user", "Fix:", "idm_repo_user"),
    ),
    Case(
        "http-listener-on-another-port",
        _set(
            ("idm2", "idm_listeners"),
            [
                {"name": "http", "port": 9081, "secure": False},
                {"name": "https", "port": 9443, "secure": True},
            ],
        ),
        INVARIANTS,
        ("rule 7", "idm2", "listener named http", "9081", "idm_port_http is 9080", "Fix:"),
    ),
    Case(
        "node-and-load-balancer-share-a-port",
        _balancer_on_a_node,
        INVARIANTS,
        ("rule 7", "idm1 (load balancer)", "127.0.0.1", "8080", "Fix:", "idm_lb_http_port"),
    ),
    Case(
        "one-machine-under-two-aliases",
        _alias_of_idm1,
        INVARIANTS,
        (
            "rule 13",
            "idm1",
            "idm4",
            "same machine",
            "/opt/idm-test/idm0/openidm",
            "Fix:",
            "idm_home",
        ),
    ),
    Case(
        "two-nodes-one-installation-directory",
        _set(("idm2", "idm_home"), "/opt/idm-test/idm0/openidm"),
        INVARIANTS,
        ("rule 13", "idm1", "idm2", "127.0.0.1", "installation directory", "Fix:"),
    ),
    Case(
        "checkin-offset-not-below-instance-timeout",
        _set(("all", "idm_cluster_checkin_offset"), 30000),
        INVARIANTS,
        ("rule 5", "idm1", "instanceCheckInOffset (30000 ms)", "instanceTimeout", "Fix:"),
    ),
    Case(
        "checkin-interval-of-1-ms",
        _set(("all", "idm_cluster_checkin_interval"), 1),
        INVARIANTS,
        ("rule 5", "idm1", "instanceCheckInInterval (1 ms)", "100 ms", "Fix:"),
    ),
    Case(
        "instance-timeout-of-10-to-the-9",
        _set(("all", "idm_cluster_instance_timeout"), 10**9),
        INVARIANTS,
        ("rule 5", "idm1", "instanceTimeout=1000000000", "86400000", "Fix:"),
    ),
    Case(
        "privileged-port-without-capability",
        _set(("idm2", "idm_port_http"), 80),
        INVARIANTS,
        ("rule 7", "idm2", "port(s) 80", "1024", "CAP_NET_BIND_SERVICE", "'idm'", "Fix:"),
    ),
    Case(
        "duplicate-schedule-names",
        _schedules("reconcile", "reconcile"),
        INVARIANTS,
        ("rule 12", "idm1", "'reconcile'", "more than one schedule", "Fix:"),
    ),
    Case(
        "path-like-schedule-name",
        _schedules("../../etc/cron"),
        INVARIANTS,
        ("rule 12", "idm1", "'../../etc/cron'", "looks like a path", "Fix:"),
    ),
    Case(
        "glob-schedule-name",
        _schedules("sync-*"),
        INVARIANTS,
        ("rule 12", "idm1", "'sync-*'", "glob characters", "Fix:"),
    ),
    Case(
        "load-balancer-backend-listed-twice",
        _backend_twice,
        INVARIANTS,
        ("rule 9", "lb1", "idm2", "more than once", "Fix:", "idm_lb_backends"),
    ),
    Case(
        "boolean-where-a-port-is-expected",
        _set(("idm2", "idm_port_http"), True),
        INVARIANTS,
        ("rule 7", "idm2", "ports.http must be an integer", "(got true)", "Fix:"),
    ),
    # A limited run judges the whole cluster group (issue 14 item 5).
    Case(
        "limit-node-id-of-outside-node",
        _set(("idm3", "idm_node_id"), "IDM2"),
        INVARIANTS,
        ("rule 1", "idm3", "idm2", "'IDM2'", "outside --limit", "Fix:"),
        limit="idm1,idm3",
    ),
    Case(
        "limit-without-bootstrap-node",
        lambda inv: None,
        INVARIANTS,
        ("rule 11", "idm1", "outside --limit", "Fix:", "add idm1 to --limit"),
        limit="idm2,idm3",
    ),
    Case(
        "unreachable-repository",
        _unreachable_repository,
        REPOSITORY,
        (
            "127.0.0.1:{repo_port}",
            "unreachable",
            "from repo",
            "PostgreSQL runs",
            "nothing was changed",
        ),
    ),
]


# --- Running ansible-playbook ---------------------------------------------------------------------

RECAP = re.compile(
    r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
    r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)",
    re.M,
)
PLAY = re.compile(r"^PLAY \[(?P<name>.*)\] \*+$")
TASK = re.compile(r"^TASK \[(?P<name>.*)\] \*+$")
FATAL = re.compile(r"^fatal: \[(?P<host>[^\]]+)\]: (?P<kind>FAILED|UNREACHABLE)! => (?P<rest>.*)$")


@dataclass
class Fatal:
    play: str
    task: str
    host: str
    kind: str
    text: str
    ignored: bool = False  # the task had ignore_errors (the next line says "...ignoring")


@dataclass
class Run:
    inventory: dict
    returncode: int
    stdout: str
    stderr: str
    recap: dict[str, dict[str, int]] = field(default_factory=dict)
    plays: list[str] = field(default_factory=list)
    fatals: list[Fatal] = field(default_factory=list)

    @property
    def failures(self) -> list[Fatal]:
        """The fatal results that stopped the run (not those of tasks that ignore errors)."""
        return [f for f in self.fatals if not f.ignored]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        """For assertion messages: the inventory and the output's last lines, each shortened."""
        lines = [line[:400] for line in self.stdout.splitlines() if line.strip()][-60:]
        return (
            f"rc={self.returncode}\n--- inventory\n{yaml.safe_dump(self.inventory)}"
            "--- stdout (last lines, each cut at 400 characters)\n" + "\n".join(lines) + "\n"
            f"--- stderr (tail)\n{self.stderr[-2000:]}"
        )


def parse(run: Run) -> Run:
    play = task = ""
    for line in run.stdout.splitlines():
        if line == "...ignoring" and run.fatals:
            run.fatals[-1].ignored = True
        elif match := PLAY.match(line):
            play = match["name"]
            run.plays.append(play)
        elif match := TASK.match(line):
            task = match["name"]
        elif match := FATAL.match(line):
            run.fatals.append(Fatal(play, task, match["host"], match["kind"], line))
    recap = run.stdout.split("PLAY RECAP", 1)[-1] if "PLAY RECAP" in run.stdout else ""
    for match in RECAP.finditer(recap):
        run.recap[match["host"]] = {
            key: int(match[key]) for key in ("ok", "changed", "unreachable", "failed")
        }
    return run


def run_site(inventory: dict, workdir: Path, limit: str | None = None) -> Run:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "inventory.yml").write_text(yaml.safe_dump(inventory, sort_keys=False))
    (workdir / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = False\n")
    env = {
        **BASE_ENV,
        "ANSIBLE_CONFIG": str(workdir / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "default",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",  # one line per result, parsed below
        "ANSIBLE_VERBOSITY": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(workdir / "cp"),
    }
    proc = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", "inventory.yml", "idm_automation.cluster.site"]
        + (["--limit", limit] if limit else []),
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    (workdir / "stdout.txt").write_text(proc.stdout)
    (workdir / "stderr.txt").write_text(proc.stderr)
    return parse(Run(inventory, proc.returncode, proc.stdout, proc.stderr))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Listener:
    """A TCP port on 127.0.0.1 that accepts connections (a repository that answers)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.close()

    def close(self) -> None:
        self.sock.close()


@dataclass
class Harness:
    tmp: Path
    zip_path: Path
    closed_port: int
    open_port: int

    def inventory(self, repo_port: str = "closed") -> dict:
        port = self.open_port if repo_port == "open" else self.closed_port
        return base_inventory(self.zip_path, port)


BASELINES = {
    # No repository host: the probe delegates to the bootstrap node, the first touch of a node.
    "valid-inventory": lambda inv: None,
    # A repository that answers: the run gets past every preflight check to the live facts.
    "valid-inventory-with-repository": add_repository_host,
}


@pytest.fixture(scope="session")
def harness(tmp_path_factory) -> Harness:
    tmp = tmp_path_factory.mktemp("bad-input")
    zip_path = tmp / "IDM-8.1.0.zip"
    zip_path.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip: only stat'ed
    listener = Listener()
    try:
        yield Harness(tmp, zip_path, free_port(), listener.port)
    finally:
        listener.close()


@pytest.fixture(scope="session")
def runs(request, harness) -> dict[str, Future]:
    """Start every selected case (and baseline) at once; each test waits for its own run."""
    wanted: dict[str, tuple[Callable[[dict], None], str, str | None]] = {}
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if isinstance(params.get("case"), Case):
            case = params["case"]
            wanted[case.id] = (case.change, case.repo_port, case.limit)
        elif params.get("baseline") in BASELINES:
            name = params["baseline"]
            wanted[name] = (BASELINES[name], "open" if "repository" in name else "closed", None)
    # The repository probe waits ~10 s: start it first.
    order = sorted(wanted, key=lambda name: name != "unreachable-repository")
    workers = max(4, min(8, 2 * (os.cpu_count() or 2)))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="site")
    futures: dict[str, Future] = {}
    for name in order:
        change, repo_port, limit = wanted[name]
        inventory = harness.inventory(repo_port)
        change(inventory)
        futures[name] = pool.submit(run_site, copy.deepcopy(inventory), harness.tmp / name, limit)
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def get_run(runs: dict[str, Future], name: str) -> Run:
    return runs[name].result(timeout=RUN_TIMEOUT + 60)


def inventory_hosts(inventory: dict) -> set[str]:
    """The hosts site.yml's plays target (the repository host is only delegated to)."""
    children = inventory["all"]["children"]
    groups = ("idm_nodes", "idm_loadbalancers", "idm_standalone")
    return {h for g in groups for h in (children.get(g) or {}).get("hosts", {})}


def assert_no_secret(run: Run) -> None:
    for var, value in SECRETS.items():
        assert value not in run.output, (
            f"the value of {var} appears in the output\n{run.describe()}"
        )


# --- Tests ----------------------------------------------------------------------------------------


def test_case_table_is_large_enough():
    assert len(CASES) >= 56
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("baseline", sorted(BASELINES))
def test_valid_inventory_passes_preflight_and_fails_only_at_the_first_node_contact(runs, baseline):
    """The harness is sound: a valid inventory gets through every check of the inventory and only
    fails when it first reaches for a node, which is unreachable on purpose."""
    run = get_run(runs, baseline)
    detail = run.describe()
    assert run.returncode != 0, detail
    refusals = [f for f in run.fatals if f.kind != "UNREACHABLE"]
    if "repository" in baseline:
        assert not refusals, f"a valid inventory was refused\n{detail}"
    else:
        # The repository probe runs on idm1, unreachable on purpose: preflight stops there and
        # says which host it could not reach, instead of going on without it.
        assert refusals, detail
        assert all(
            "Refuse to go on without the host that runs the DDL" in f.task for f in refusals
        ), detail
        assert all("idm1, the host that runs the DDL" in f.text for f in refusals), detail
    assert not [f for f in refusals if "Refuse the" in f.task], detail
    for hostname in NODES:
        assert run.recap.get(hostname, {}).get("changed") == 0, detail
    unreachable = [f for f in run.fatals if f.kind == "UNREACHABLE"]
    assert unreachable, f"no node was contacted\n{detail}"
    # Without a repository host only idm1 is contacted (by the probe), then preflight stops.
    contacted = set(NODES) if "repository" in baseline else {"idm1"}
    assert {f.host for f in unreachable} == contacted, detail
    assert all(run.recap[h]["unreachable"] >= 1 for h in contacted), detail
    assert all("Connection refused" in f.text for f in unreachable), detail
    first = unreachable[0]
    assert first.play == PREFLIGHT_PLAY, detail
    if "repository" in baseline:
        # It passed the repository probe on the local host and failed on the live facts.
        assert "live" in first.task.lower() or "checksums" in first.task, detail
        assert re.search(r"^ok: \[idm\d -> repo(\(127\.0\.0\.1\))?\]$", run.stdout, re.M), detail
    else:
        assert "reaches the repository" in first.task, detail
    assert_no_secret(run)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_refused_before_any_change(runs, harness, case):
    run = get_run(runs, case.id)
    detail = run.describe()
    assert run.returncode not in (0, 4), f"expected a failure, not {run.returncode}\n{detail}"
    # Nothing was contacted: every host of the plays is in the recap, unreachable=0, changed=0.
    targets = inventory_hosts(run.inventory)
    if case.limit:
        targets &= set(case.limit.split(","))
    assert targets <= set(run.recap), f"hosts missing from the PLAY RECAP\n{detail}"
    for hostname, stats in run.recap.items():
        assert stats["unreachable"] == 0, f"{hostname} was contacted\n{detail}"
        assert stats["changed"] == 0, f"{hostname} was changed\n{detail}"
    assert "UNREACHABLE!" not in run.stdout, detail
    # It failed in the preflight play, and no later play started.
    assert run.failures, f"no task failed\n{detail}"
    assert run.plays == [PREFLIGHT_PLAY], f"a later play started\n{detail}"
    assert {f.play for f in run.fatals} == {PREFLIGHT_PLAY}, detail
    assert all(f.kind == "FAILED" for f in run.fatals), detail
    assert all(case.task in f.task for f in run.failures), (
        f"expected the failure in '{case.task}', got {[f.task for f in run.failures]}\n{detail}"
    )
    # The message names the host(s), the problem and the fix.
    message = "\n".join(f.text for f in run.failures)
    for expected in case.expect:
        expected = expected.format(repo_port=harness.closed_port)
        assert expected in message or json.dumps(expected)[1:-1] in message, (
            f"{expected!r} is not in the failure message\n{detail}"
        )
    assert_no_secret(run)


def test_installed_collection_matches_the_checkout():
    """The cases test the installed collection: it must be built from this checkout's roles,
    playbooks and plugins (`make collection`), or the results say nothing about them."""
    manifest = json.loads((COLLECTION / "FILES.json").read_text())
    stale = []
    for entry in manifest["files"]:
        name = entry["name"]
        if entry["ftype"] != "file" or not name.startswith(("roles/", "playbooks/", "plugins/")):
            continue
        source = REPO_ROOT / name
        if (
            not source.is_file()
            or hashlib.sha256(source.read_bytes()).hexdigest() != entry["chksum_sha256"]
        ):
            stale.append(name)
    installed = {e["name"] for e in manifest["files"]}
    for base in ("roles", "playbooks", "plugins"):
        for path in (REPO_ROOT / base).rglob("*"):
            rel = path.relative_to(REPO_ROOT).as_posix()
            if path.is_file() and "__pycache__" not in rel and rel not in installed:
                stale.append(rel)
    assert not stale, (
        f"the collection in {COLLECTION} is older than the checkout (run `make collection`): "
        f"{sorted(stale)[:20]}"
    )
