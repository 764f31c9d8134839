"""Monitoring (issue 16 item 6): metrics_targets, and the state cluster_status gives alerting."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.filter.cluster_status import cluster_status
from ansible_collections.idm_automation.cluster.plugins.filter.listeners import listener_defaults
from ansible_collections.idm_automation.cluster.plugins.filter.metrics_targets import (
    metrics_targets,
)

LISTENERS = listener_defaults(
    [
        {"name": "http", "port": 8080, "secure": False},
        {"name": "https", "port": "8443", "secure": True},
        {"name": "mutualauth", "port": 8444, "secure": True, "mutual_auth": True, "enabled": False},
    ]
)


def _node(host: str, address: str, node_id: str) -> dict:
    return {"host": host, "address": address, "node_id": node_id, "listeners": LISTENERS}


def test_metrics_targets_one_group_per_node_on_the_named_listener() -> None:
    nodes = [_node("idm1", "10.0.0.11", "node1"), _node("idm2", "fd00::12", "node2")]
    plain = metrics_targets(nodes, "http")
    assert plain == [
        {"targets": ["10.0.0.11:8080"],
         "labels": {"idm_node": "idm1", "idm_node_id": "node1", "__scheme__": "http",
                    "__metrics_path__": "/openidm/metrics/prometheus"}},
        {"targets": ["[fd00::12]:8080"],
         "labels": {"idm_node": "idm2", "idm_node_id": "node2", "__scheme__": "http",
                    "__metrics_path__": "/openidm/metrics/prometheus"}},
    ]  # fmt: skip
    secure = metrics_targets(nodes, "https")
    assert [g["targets"] for g in secure] == [["10.0.0.11:8443"], ["[fd00::12]:8443"]]
    assert {g["labels"]["__scheme__"] for g in secure} == {"https"}


def test_metrics_targets_refuses_a_missing_or_disabled_listener() -> None:
    with pytest.raises(AnsibleFilterError, match="idm1 has no enabled listener named 'mutualauth'"):
        metrics_targets([_node("idm1", "10.0.0.11", "node1")], "mutualauth")
    with pytest.raises(AnsibleFilterError, match="no enabled listener named 'admin'"):
        metrics_targets([_node("idm1", "10.0.0.11", "node1")], "admin")
    with pytest.raises(AnsibleFilterError, match="list of node mappings"):
        metrics_targets("idm1", "http")
    with pytest.raises(AnsibleFilterError, match="non-empty string"):
        metrics_targets([], "")
    assert metrics_targets([], "http") == []


def _gathered(ready: list[bool | None], services: list[str] | None = None) -> dict:
    services = services or ["active"] * len(ready)
    names = [f"idm{i + 1}" for i in range(len(ready))]
    return {
        "nodes": {
            name: {"node_id": name, "service": svc, "ready": r, "version": "8.1.0"}
            for name, r, svc in zip(names, ready, services, strict=True)
        },
        "cluster": [
            {"instanceId": name, "state": "running" if r else "down"}
            for name, r in zip(names, ready, strict=True)
        ],
        "checkins": {},
        "loadbalancers": {},
    }


@pytest.mark.parametrize(
    ("ready", "state", "healthy"),
    [
        ([True, True, True], "healthy", True),
        ([True, False, None], "degraded", False),
        ([False, False, None], "down", False),
        ([], "down", False),  # no node answered the cluster endpoint either
    ],
)
def test_cluster_status_state_for_alerting(ready, state, healthy) -> None:
    gathered = _gathered(ready)
    if not ready:
        gathered["cluster"] = None
    status = cluster_status(gathered)
    assert (status["state"], status["healthy"]) == (state, healthy)


def test_cluster_status_state_degraded_when_ready_nodes_have_other_problems() -> None:
    """A ready node that the load balancer drains still serves: degraded, not down."""
    gathered = _gathered([True, True])
    gathered["loadbalancers"] = {"lb1": {"idm1": "UP", "idm2": "DRAIN"}}
    status = cluster_status(gathered)
    assert status["state"] == "degraded"
    assert status["problems"] == ["idm2 (idm2): DRAIN in load balancer lb1"]


def test_cluster_status_state_healthy_with_warnings() -> None:
    gathered = _gathered([True])
    gathered["cluster"].append({"instanceId": "old", "state": "down"})
    status = cluster_status(gathered)
    assert (status["state"], status["verdict"]) == ("healthy", "cluster healthy, with 1 warning(s)")
