"""restart_blockers: the rolling restart drains a node only while every other node is running in
the cluster view (effective state, row C9) and UP in every HAProxy that balances it (issue 14,
item 8)."""

from __future__ import annotations

from typing import Any

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.filter.restart_blockers import (
    FilterModule,
    restart_blockers,
)

PEERS = {"idm2": "node2", "idm3": "node3"}
BACKENDS = {"lb1": ["idm1", "idm2", "idm3"]}


def _cluster(**states: str) -> list[dict[str, Any]]:
    return [{"instanceId": iid, "state": state} for iid, state in states.items()]


def _data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "target": "idm1",
        "peers": dict(PEERS),
        "cluster": _cluster(node1="running", node2="running", node3="running"),
        "loadbalancers": {"lb1": {"idm1": "UP", "idm2": "UP", "idm3": "UP"}},
        "backends": BACKENDS,
    }
    data.update(overrides)
    return data


def test_a_healthy_cluster_has_no_blockers() -> None:
    assert restart_blockers(_data()) == []


def test_the_whole_cluster_answer_is_accepted_too() -> None:
    answer = {"result": _cluster(node1="running", node2="running", node3="running")}
    assert restart_blockers(_data(cluster=answer)) == []


def test_no_load_balancer_needs_only_the_cluster_view() -> None:
    assert restart_blockers(_data(loadbalancers={}, backends={})) == []


def test_a_stopped_peer_blocks_and_is_named_with_the_fix() -> None:
    reasons = restart_blockers(
        _data(cluster=_cluster(node1="running", node2="down", node3="running"))
    )
    assert len(reasons) == 1
    assert reasons[0].startswith("idm2 (node ID node2) is down in the cluster view of idm1")
    assert "idm_automation.cluster.start" in reasons[0]


def test_a_peer_in_recovery_is_not_running() -> None:
    recovering = [
        {"instanceId": "node1", "state": "running"},
        {"instanceId": "node2", "state": "running", "recovery": {"state": "processing-down"}},
        {"instanceId": "node3", "state": "running"},
    ]
    reasons = restart_blockers(_data(cluster=recovering))
    assert len(reasons) == 1
    assert "idm2 (node ID node2) is processing-down" in reasons[0]


def test_a_peer_missing_from_the_cluster_table_blocks() -> None:
    reasons = restart_blockers(_data(cluster=_cluster(node1="running", node2="running")))
    assert len(reasons) == 1
    assert "idm3 (node ID node3) is missing from the cluster view of idm1" in reasons[0]


def test_an_unreadable_cluster_view_blocks() -> None:
    reasons = restart_blockers(_data(cluster=None, cluster_error="HTTP 401"))
    assert len(reasons) == 1
    assert "idm1 did not give its cluster view (/openidm/cluster: HTTP 401)" in reasons[0]
    assert "idm2, idm3" in reasons[0]


@pytest.mark.parametrize(
    ("status", "said"),
    [
        ("MAINT", "disabled or drained"),
        ("DRAIN", "disabled or drained"),
        ("DOWN", "health check does not pass"),
        ("UP 1/3", "health check does not pass"),
        ("no check", "health check does not pass"),
    ],
)
def test_a_peer_not_up_in_haproxy_blocks(status: str, said: str) -> None:
    lbs = {"lb1": {"idm1": "UP", "idm2": "UP", "idm3": status}}
    reasons = restart_blockers(_data(loadbalancers=lbs))
    assert len(reasons) == 1
    assert reasons[0].startswith(f"idm3 is {status}")
    assert "on lb1" in reasons[0] and said in reasons[0]


def test_a_peer_missing_from_a_haproxy_blocks() -> None:
    reasons = restart_blockers(_data(loadbalancers={"lb1": {"idm1": "UP", "idm2": "UP"}}))
    assert len(reasons) == 1
    assert "idm3 is not a server of the idm_http backend of HAProxy on lb1" in reasons[0]


def test_unreadable_haproxy_statistics_block() -> None:
    reasons = restart_blockers(_data(loadbalancers={"lb1": None}))
    assert len(reasons) == 1
    assert reasons[0].startswith("lb1: the HAProxy statistics could not be read")


def test_a_load_balancer_that_balances_none_of_the_peers_is_ignored() -> None:
    lbs = {"lb1": {"idm1": "UP", "idm2": "UP", "idm3": "UP"}, "lb2": None}
    assert restart_blockers(_data(loadbalancers=lbs, backends={**BACKENDS, "lb2": ["idm1"]})) == []


def test_the_target_itself_may_be_down_or_disabled() -> None:
    cluster = _cluster(node1="down", node2="running", node3="running")
    lbs = {"lb1": {"idm1": "MAINT", "idm2": "UP", "idm3": "UP"}}
    assert restart_blockers(_data(cluster=cluster, loadbalancers=lbs)) == []


def test_the_only_node_is_never_taken_down() -> None:
    reasons = restart_blockers(_data(peers={}, cluster=_cluster(node1="running")))
    assert len(reasons) == 1
    assert reasons[0].startswith("idm1 is the only node of the cluster")
    # the target listed among its own peers does not count as another node
    assert restart_blockers(_data(peers={"idm1": "node1"})) == reasons


def test_every_problem_is_reported_at_once() -> None:
    reasons = restart_blockers(
        _data(
            cluster=_cluster(node1="running", node2="down", node3="running"),
            loadbalancers={"lb1": {"idm1": "UP", "idm2": "DOWN", "idm3": "MAINT"}},
        )
    )
    assert [r.split(" ")[0] for r in reasons] == ["idm2", "idm2", "idm3"]


@pytest.mark.parametrize(
    "bad", [None, [], "idm1", {"peers": PEERS}, {"target": "idm1", "peers": []}]
)
def test_bad_input_is_refused(bad: Any) -> None:
    with pytest.raises(AnsibleFilterError, match="restart_blockers"):
        restart_blockers(bad)


def test_the_filter_is_registered() -> None:
    assert FilterModule().filters() == {"restart_blockers": restart_blockers}
