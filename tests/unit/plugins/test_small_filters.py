"""listener_defaults, format_violation and cluster_status: the filters behind the roles' output."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.filter.cluster_status import cluster_status
from ansible_collections.idm_automation.cluster.plugins.filter.format_violation import (
    format_violation,
)
from ansible_collections.idm_automation.cluster.plugins.filter.listeners import listener_defaults


def test_listener_defaults_fill_every_field_and_cast_the_port() -> None:
    result = listener_defaults(
        [{"name": "http", "port": "8080"}, {"name": "tls", "port": 8443, "secure": True}]
    )
    assert result == [
        {"name": "http", "port": 8080, "enabled": True, "secure": False, "mutual_auth": False,
         "ssl_cert_alias": "openidm-localhost"},
        {"name": "tls", "port": 8443, "enabled": True, "secure": True, "mutual_auth": False,
         "ssl_cert_alias": "openidm-localhost"},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("listeners", "message"),
    [
        ([{"port": 1}], "needs at least 'name' and 'port'"),
        ([{"name": "a b", "port": 1}], "must be letters"),
        ([{"name": "x", "port": 1}, {"name": "x", "port": 2}], "used twice"),
        ([{"name": "x", "port": "eighty"}], "is not a number"),
    ],
)
def test_listener_defaults_refuse_bad_listeners(listeners: list, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        listener_defaults(listeners)


def test_format_violation_names_rule_message_and_fix() -> None:
    line = format_violation(
        {"rule": "node-id", "number": 1, "severity": "error", "hosts": ["idm1", "idm2"],
         "message": "idm1, idm2: node ID node1 is used twice", "fix": "Give each node its own ID."}
    )  # fmt: skip
    assert line == (
        "[error rule 1 node-id] idm1, idm2: node ID node1 is used twice "
        "Fix: Give each node its own ID."
    )
    assert format_violation({"message": "m"}) == "[error rule ? ?] m"


def _gathered(**overrides: object) -> dict:
    gathered: dict = {
        "nodes": {
            "idm1": {"node_id": "idm1", "service": "active", "ready": True, "version": "8.1.0"},
            "idm2": {"node_id": "node-two", "service": "active", "ready": True, "version": "8.1.0"},
        },
        "cluster": [
            {"instanceId": "idm1", "state": "running"},
            {"instanceId": "node-two", "state": "running"},
        ],
        "checkins": {"idm1": 0.42, "node-two": 1.04},
        "loadbalancers": {"lb1": {"idm1": "UP", "idm2": "UP"}},
    }
    gathered.update(overrides)
    return gathered


def test_cluster_status_healthy_table() -> None:
    status = cluster_status(_gathered())
    assert status["healthy"] is True
    assert status["problems"] == []
    header, first, second = status["table"]
    assert header.split() == ["NODE", "NODE", "ID", "SERVICE", "READY", "CLUSTER", "CHECK-IN",
                              "VERSION", "LOAD", "BALANCER"]  # fmt: skip
    assert first.split() == [
        "idm1",
        "idm1",
        "active",
        "yes",
        "running",
        "0.4s",
        "ago",
        "8.1.0",
        "lb1:UP",
    ]
    assert "node-two" in second
    assert len({len(line) for line in status["table"][:1]}) == 1


def test_cluster_status_names_every_problem() -> None:
    gathered = _gathered(
        nodes={
            "idm1": {"node_id": "idm1", "service": "active", "ready": True, "version": "8.1.0"},
            "idm2": {"node_id": "node-two", "service": "failed", "ready": False, "version": None},
        },
        cluster=[
            {"instanceId": "idm1", "state": "running"},
            {"instanceId": "node-two", "state": "processing-down"},
            {"instanceId": "stranger", "state": "running"},
        ],
        loadbalancers={"lb1": {"idm1": "UP", "idm2": "DOWN"}},
    )
    status = cluster_status(gathered)
    assert status["healthy"] is False
    assert status["problems"] == [
        "idm2 (node-two): service is failed",
        "idm2 (node-two): not ready",
        "idm2 (node-two): cluster state is processing-down",
        "idm2 (node-two): DOWN in load balancer lb1",
        "instance stranger is running in the cluster but is not in the inventory",
    ]


def test_cluster_status_without_cluster_endpoint_is_unhealthy() -> None:
    status = cluster_status(_gathered(cluster=None, checkins={}, loadbalancers={}))
    assert status["healthy"] is False
    assert status["problems"] == ["no node answered the cluster endpoint"]
    assert status["rows"][0]["cluster_state"] == "absent"
    assert status["rows"][0]["checkin_age"] is None


def test_cluster_status_shows_instances_not_in_the_inventory_as_warnings() -> None:
    """Issue 14 item 10: a renamed or removed node's row (down, or in recovery) is a warning row
    with the fix; the verdict is "healthy, with warnings", never plainly "cluster healthy"."""
    cluster = [
        {"instanceId": "idm1", "state": "running"},
        {"instanceId": "node-two", "state": "running"},
        {"instanceId": "old3", "state": "down"},
        {"instanceId": "old4", "state": "running", "recovery": {"state": "processing-down"}},
    ]
    status = cluster_status(_gathered(cluster=cluster, checkins={"old3": 3600.0}))
    assert status["healthy"] is True
    assert status["verdict"] == "cluster healthy, with 2 warning(s)"
    assert status["problems"] and all(p.startswith("warning: ") for p in status["problems"])
    assert "cluster healthy" not in status["problems"]
    old3, old4 = status["warnings"]
    assert old3.startswith("instance old3 is down in the cluster table but is not in the inventory")
    assert old4.startswith("instance old4 is processing-down")  # effective state (C9)
    assert all("playbooks/remove_node.yml" in w for w in status["warnings"])
    assert [r["node_id"] for r in status["instances_not_in_inventory"]] == ["old3", "old4"]
    assert [r["node_id"] for r in status["rows"]] == ["idm1", "node-two"]
    *_, row3, row4 = status["table"]
    assert row3.split()[:4] == ["(not", "in", "inventory)", "old3"]
    assert "down" in row3.split() and "3600.0s" in row3
    assert "processing-down" in row4.split()


def test_cluster_status_foreign_running_instance_stays_a_problem() -> None:
    cluster = [
        {"instanceId": "idm1", "state": "running"},
        {"instanceId": "node-two", "state": "running"},
        {"instanceId": "ghost", "state": "running"},
    ]
    status = cluster_status(_gathered(cluster=cluster))
    assert status["healthy"] is False
    assert status["verdict"] == "cluster unhealthy, 1 problem(s)"
    assert status["problems"] == [
        "instance ghost is running in the cluster but is not in the inventory"
    ]
    assert status["warnings"] == [] and status["instances_not_in_inventory"] == []
    assert cluster_status(_gathered())["verdict"] == "cluster healthy"
