"""Builders of cluster descriptions for the cluster_invariants tests (valid unless changed)."""

from __future__ import annotations

import copy
from typing import Any

from ansible_collections.idm_automation.cluster.plugins.filter.cluster_invariants import (
    cluster_invariants,
)

DATASOURCE_SHA = "a" * 64
KEYSTORE_SHA, TRUSTSTORE_SHA, SECRETS_SHA = "b" * 64, "c" * 64, "d" * 64


def host_name(index: int) -> str:
    return f"idm{index + 1}"


def make_node(index: int, machine: str | None = None) -> dict[str, Any]:
    """One valid clustered node: own machine, default ports, TLS name covered."""
    return {
        "node_id": f"node{index + 1}",
        "node_id_source": "boot_properties",
        "jvm_options": ["-Xms2048m", "-Xmx2048m"],
        "machine": machine or f"10.0.{index // 250}.{index % 250 + 1}",
        "home": f"/opt/idm{index + 1}/openidm",
        "service": f"openidm{index + 1}",
        "service_user": "idm",
        "version": "8.1.0",
        "cluster": {
            "enabled": True,
            "instanceTimeout": 30000,
            "instanceRecoveryTimeout": 30000,
            "instanceCheckInInterval": 5000,
            "instanceCheckInOffset": 0,
        },
        "repository": {
            "host": "pg1",
            "port": 5432,
            "database": "openidm",
            "user": "openidm",
            "admin_user": "postgres",
            "address": None,
            "datasource_sha256": DATASOURCE_SHA,
        },
        "ports": {"http": 8080, "https": 8443, "mutualauth": 8444},
        "listeners": [
            {"name": "http", "port": 8080, "secure": False, "enabled": True},
            {"name": "https", "port": 8443, "secure": True, "enabled": True},
        ],
        "secrets": {
            "mode": "bootstrap",
            "keystore_src": None,
            "truststore_src": None,
            "secrets_json_src": None,
            "keystore_location": None,
            "truststore_location": None,
        },
        "tls": {
            "public_hostname": "idm.example.com",
            "certificate_names": ["idm.example.com", f"{host_name(index)}.example.com"],
            "clients_use_tls": True,
        },
        "certificate": {"renew_days": 30, "source": "generate", "file_days_left": None},
        "config": {"repo_enabled": True, "fileinstall_enabled": False},
        "scheduler": {
            "execute_persistent": True,
            "schedules": [{"name": "reconcile", "enabled": True, "persisted": True}],
        },
        "standby": False,
    }


def make_cluster(count: int = 3, *, facts: bool = False) -> dict[str, Any]:
    """A valid description of ``count`` nodes behind one load balancer."""
    nodes = {host_name(i): make_node(i) for i in range(count)}
    description: dict[str, Any] = {
        "nodes": nodes,
        "others": {},
        "loadbalancers": {"lb1": {"backends": list(nodes)}},
        "bootstrap_node": host_name(0) if count else None,
    }
    if facts:
        description["facts"] = {
            host: {
                "keystore_sha256": KEYSTORE_SHA,
                "truststore_sha256": TRUSTSTORE_SHA,
                "secrets_json_sha256": SECRETS_SHA,
                "datasource_sha256": DATASOURCE_SHA,
                "node_id": node["node_id"],
                "certificate_names": ["idm.example.com"],
                "certificate_days_left": 700,
            }
            for host, node in nodes.items()
        }
        description["repository_instances"] = [
            {"id": node["node_id"], "state": "running"} for node in nodes.values()
        ]
    return description


def clone(description: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(description)


def verdict(description: object) -> set[tuple[str, str, tuple[str, ...]]]:
    """The (rule, severity, hosts) triples the filter reports."""
    return {
        (str(v["rule"]), str(v["severity"]), tuple(v["hosts"]))  # type: ignore[arg-type]
        for v in cluster_invariants(description)
    }


def errors(description: object) -> list[dict[str, Any]]:
    return [v for v in cluster_invariants(description) if v["severity"] == "error"]
