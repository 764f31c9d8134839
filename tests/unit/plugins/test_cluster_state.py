"""Contract row C9 (uncertain): where a node in recovery shows. The effective state, the
instance_state and running_instances filters, and cluster_status read both shapes alike: the
top-level ``state: processing-down`` (newer versions) and ``state: running`` with a ``recovery``
object whose ``state`` is ``processing-down`` (older versions). The shapes come from the stand-in's
own ``api_view`` with either variant, besides hand-written ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.filter.cluster_status import cluster_status
from ansible_collections.idm_automation.cluster.plugins.filter.instance_state import (
    FilterModule as InstanceStateFilters,
)
from ansible_collections.idm_automation.cluster.plugins.filter.instance_state import (
    instance_state,
)
from ansible_collections.idm_automation.cluster.plugins.filter.running_instances import (
    FilterModule as RunningInstancesFilters,
)
from ansible_collections.idm_automation.cluster.plugins.filter.running_instances import (
    running_instances,
)
from ansible_collections.idm_automation.cluster.plugins.module_utils.cluster_state import (
    effective_state,
    in_recovery,
    instance_list,
    instance_states,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
STANDIN_BIN = REPO_ROOT / "tests" / "idm_standin" / "openidm" / "bin"

RECOVERY = {
    "recoveringInstanceId": "node1",
    "recoveringTimestamp": 1700000001000,
    "recoveryStarted": "2023-11-14T22:13:21.000Z",
    "lastCheckIn": 1700000000000,
}
FINISHED = {
    **RECOVERY,
    "recoveryFinished": "2023-11-14T22:13:51.000Z",
    "recoveryFinishedTimestamp": 1700000031000,
    "recoveryFinishedBy": "node1",
}


def _stored(state: str, recovery: dict | None) -> dict:
    """A clusterobjects row as the stand-in stores it."""
    row = {"instanceId": "node2", "state": state, "startup": "2023-11-14T22:00:00.000Z"}
    row["shutdown"] = "2023-11-14T22:13:51.000Z" if state == "down" else ""
    if recovery is not None:
        row["recovery"] = dict(recovery)
    return row


@pytest.fixture(params=["state", "recovery"])
def api_view(request, monkeypatch):
    """The stand-in's /openidm/cluster view of a stored row, with variant c9=<param>."""
    monkeypatch.syspath_prepend(str(STANDIN_BIN))
    cluster = pytest.importorskip("idm_standin.cluster")
    monkeypatch.setattr(cluster, "c9_variant", request.param)
    return cluster.api_view


def test_c9_both_variants_from_the_standin_view(api_view) -> None:
    in_progress = api_view(_stored("processing-down", RECOVERY))
    assert effective_state(in_progress) == "processing-down"
    assert in_recovery(in_progress)
    running = api_view(_stored("running", None))
    assert effective_state(running) == "running"
    down = api_view(_stored("down", FINISHED))
    assert effective_state(down) == "down"
    assert not in_recovery(down)
    listed = [{**e, "instanceId": f"n{i}"} for i, e in enumerate([running, in_progress, down])]
    assert running_instances(listed) == ["n0"]
    assert instance_states(listed) == {
        "n0": "running",
        "n1": "processing-down",
        "n2": "down",
    }


@pytest.mark.parametrize(
    ("instance", "expected"),
    [
        ({"instanceId": "a", "state": "running"}, "running"),
        ({"instanceId": "a", "state": "processing-down"}, "processing-down"),
        ({"instanceId": "a", "state": "processing-down", "recovery": RECOVERY}, "processing-down"),
        # older versions: running at the top, recovery in progress underneath
        (
            {"instanceId": "a", "state": "running", "recovery": {"state": "processing-down"}},
            "processing-down",
        ),
        ({"instanceId": "a", "state": "running", "recovery": RECOVERY}, "processing-down"),
        # a finished recovery of an instance that checks in again is running
        ({"instanceId": "a", "state": "running", "recovery": {"state": "recovered"}}, "running"),
        ({"instanceId": "a", "state": "running", "recovery": FINISHED}, "running"),
        ({"instanceId": "a", "state": "down", "recovery": {"state": "recovered"}}, "down"),
        ({"instanceId": "a", "state": "running", "recovery": None}, "running"),
        ({"instanceId": "a", "state": "running", "recovery": "odd"}, "running"),
        ({"instanceId": "a"}, "unknown"),
        ({"instanceId": "a", "state": ""}, "unknown"),
    ],
)
def test_effective_state(instance: dict, expected: str) -> None:
    assert effective_state(instance) == expected
    assert instance_state(instance) == expected


def test_running_instances_takes_the_answer_or_its_result() -> None:
    result = [
        {"instanceId": "a", "state": "running"},
        {"instanceId": "b", "state": "running", "recovery": {"state": "processing-down"}},
        {"instanceId": "c", "state": "down"},
        {"instanceId": "d", "state": "running"},
        {"state": "running"},  # no ID: not listed
        "not an instance",
    ]
    assert running_instances(result) == ["a", "d"]
    assert running_instances({"result": result, "resultCount": 6}) == ["a", "d"]
    assert running_instances({}) == []
    assert instance_list(None) == []


def test_filters_refuse_other_input() -> None:
    with pytest.raises(AnsibleFilterError, match="instance_state expects"):
        instance_state(["node1"])
    with pytest.raises(AnsibleFilterError, match="running_instances expects"):
        running_instances("node1")
    assert InstanceStateFilters().filters() == {"instance_state": instance_state}
    assert RunningInstancesFilters().filters() == {"running_instances": running_instances}


def _gathered(cluster: list[dict]) -> dict:
    return {
        "nodes": {
            "idm1": {"node_id": "node1", "service": "active", "ready": True, "version": "8.1.0"},
            "idm2": {"node_id": "node2", "service": "active", "ready": True, "version": "8.1.0"},
        },
        "cluster": cluster,
        "checkins": {},
        "loadbalancers": {},
    }


def test_c9_cluster_status_under_both_variants(api_view) -> None:
    node1 = api_view({**_stored("running", None), "instanceId": "node1"})
    node2 = api_view(_stored("processing-down", RECOVERY))
    stranger = api_view({**_stored("processing-down", RECOVERY), "instanceId": "stranger"})
    status = cluster_status(_gathered([node1, node2, stranger]))
    assert [row["cluster_state"] for row in status["rows"]] == ["running", "processing-down"]
    # an unknown instance in recovery is not "running in the cluster" under either variant: it
    # is a warning (issue 14), listed after the problems and never as running
    errors = [p for p in status["problems"] if not p.startswith("warning: ")]
    assert errors == ["idm2 (node2): cluster state is processing-down"]
    assert [w.split(" (")[0] for w in status["warnings"]] == [
        "instance stranger is processing-down in the cluster table but is not in the inventory"
    ]
    assert "processing-down" in status["table"][2]
    strangers = cluster_status(
        _gathered([node1, {**node2, "state": "running", "recovery": {}}, {**node1, "_id": "x",
                   "instanceId": "x"}])
    )  # fmt: skip
    assert strangers["problems"] == [
        "instance x is running in the cluster but is not in the inventory"
    ]


PLAY = r"""
- hosts: localhost
  gather_facts: false
  vars:
    answer:
      result:
        - {instanceId: node1, state: running}
        - {instanceId: node2, state: running, recovery: {state: processing-down}}
        - {instanceId: node3, state: processing-down, recovery: {recoveringInstanceId: node1}}
  tasks:
    - name: The filters give the effective states
      ansible.builtin.assert:
        that:
          - answer | idm_automation.cluster.running_instances == ['node1']
          - answer.result | idm_automation.cluster.running_instances == ['node1']
          - answer.result | map('idm_automation.cluster.instance_state') | list
            == ['running', 'processing-down', 'processing-down']
"""


def test_filters_in_a_play(ansible_playbook) -> None:
    done = ansible_playbook(PLAY)
    assert done.returncode == 0, done.stdout + done.stderr
