"""idm_cluster_info against a tiny local server (exact answers) and against real stand-in nodes:
listing with effective states (C9 both shapes), one instance, waiting with a deadline, 401 as an
error or as an answer, a refused connection, check mode. The module runs as its own process."""

from __future__ import annotations

import time

import pytest
from standin_harness import wait_for

SECRET = "s3cret-Pa55"
RUNNING = {"instanceId": "node1", "state": "running", "startup": "t", "shutdown": ""}
OLD_RECOVERY = {
    "instanceId": "node2",
    "state": "running",
    "recovery": {"recoveringInstanceId": "node1", "state": "processing-down"},
}
NEW_RECOVERY = {"instanceId": "node3", "state": "processing-down", "recovery": {}}


# The fake fixture (conftest.py) starts FakeIdm servers with these defaults.
FAKE_IDM_DEFAULTS = {"password": SECRET}


def _args(url: str, **more) -> dict:
    return {"url": url, "admin_password": SECRET, **more}


@pytest.mark.parametrize("check_mode", [False, True])
def test_c9_lists_effective_states_under_both_shapes(run_module, fake, check_mode) -> None:
    server = fake(instances=[RUNNING, OLD_RECOVERY, NEW_RECOVERY])
    result = run_module("idm_cluster_info", _args(server.url), check_mode=check_mode)
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["status"] == 200
    assert result["states"] == {
        "node1": "running",
        "node2": "processing-down",
        "node3": "processing-down",
    }
    assert result["running"] == ["node1"]
    assert [i["effective_state"] for i in result["instances"]] == list(result["states"].values())
    assert result["instances"][1]["state"] == "running"  # IDM's own field is kept as it was
    assert result["missing"] == []
    assert len(server.requests) == 1
    assert SECRET not in result["_stdout"]


def test_one_instance_or_none(run_module, fake) -> None:
    server = fake(instances=[RUNNING, OLD_RECOVERY])
    result = run_module("idm_cluster_info", _args(server.url, instance_id="node2"))
    assert not result.get("failed"), result
    assert result["instance"]["effective_state"] == "processing-down"
    assert result["states"] == {"node2": "processing-down"}
    assert server.requests[-1].path == "/openidm/cluster/node2"
    absent = run_module("idm_cluster_info", _args(server.url, instance_id="ghost"))
    assert not absent.get("failed"), absent
    assert absent["instance"] is None and absent["instances"] == [] and absent["status"] == 404


def test_waits_through_errors_until_running(run_module, fake) -> None:
    server = fake(instances=[RUNNING], fail_first=3)
    result = run_module(
        "idm_cluster_info", _args(server.url, wait_running=["node1"], timeout=30, interval=0.1)
    )
    assert not result.get("failed"), result
    assert result["running"] == ["node1"] and result["missing"] == []
    assert len(server.requests) == 4  # three 503s, then the table


def test_c9_a_recovering_instance_is_not_waited_through(run_module, fake) -> None:
    server = fake(instances=[RUNNING, OLD_RECOVERY])
    started = time.monotonic()
    result = run_module(
        "idm_cluster_info",
        _args(server.url, wait_running=["node1", "node2"], timeout=1, interval=0.2),
    )
    assert result.get("failed") is True, result
    assert "after 1s" in result["msg"]
    assert "(expected running: node1, node2); not there: node2" in result["msg"]
    assert "node1=running, node2=processing-down" in result["msg"]
    assert "HTTP 200" in result["msg"] and server.url in result["msg"]
    # what was seen last is returned
    assert result["missing"] == ["node2"] and result["running"] == ["node1"]
    assert 1 <= result["elapsed"] < 10 and time.monotonic() - started < 30
    assert 3 <= len(server.requests) <= 10


def test_waits_until_down(run_module, fake) -> None:
    down = {"instanceId": "node4", "state": "down", "recovery": {"state": "recovered"}}
    server = fake(instances=[RUNNING, down, NEW_RECOVERY])
    ok = run_module("idm_cluster_info", _args(server.url, wait_down=["node4"], timeout=5))
    assert not ok.get("failed"), ok
    assert ok["missing"] == [] and len(server.requests) == 1
    failed = run_module(
        "idm_cluster_info",
        _args(server.url, wait_running=["node1"], wait_down=["node3"], timeout=1, interval=0.2),
    )
    assert failed.get("failed") is True, failed
    assert "(expected running: node1; expected down: node3); not there: node3" in failed["msg"]
    assert failed["missing"] == ["node3"]


def test_401_fails_with_the_hint_or_is_an_answer(run_module, fake) -> None:
    server = fake(instances=[RUNNING])
    wrong = {**_args(server.url), "admin_password": "wrong-one"}
    result = run_module("idm_cluster_info", wrong)
    assert result.get("failed") is True, result
    assert result["status"] == 401
    assert "HTTP 401" in result["msg"] and "check the admin password" in result["msg"]
    answer = run_module(
        "idm_cluster_info",
        {**wrong, "fail_on_unauthorized": False, "instance_id": "node1", "wait_running": ["x"]},
    )
    assert not answer.get("failed"), answer
    assert answer["status"] == 401 and answer["instances"] == [] and answer["instance"] is None
    assert len(server.requests) == 2  # no waiting after a 401 that is an answer
    assert "wrong-one" not in answer["_stdout"] + result["_stdout"]


def test_refused_connection_fails_saying_nothing_listens(run_module) -> None:
    result = run_module(
        "idm_cluster_info",
        _args("http://127.0.0.1:1", wait_running=["node1"], timeout=1, interval=0.2),
    )
    assert result.get("failed") is True, result
    assert result["status"] == -1
    assert result["msg"].startswith("Waited 1s for node1; GET http://127.0.0.1:1/openidm/cluster")
    assert "Nothing listens there" in result["msg"]


# Real stand-in nodes ---------------------------------------------------------------------------
SLOW_RECOVERY = {
    "instanceId": "&{openidm.node.id}",
    "instanceTimeout": 1000,
    "instanceRecoveryTimeout": 60000,
    "instanceCheckInInterval": 200,
    "instanceCheckInOffset": 0,
    "enabled": True,
}


def _url(node) -> str:
    return f"http://127.0.0.1:{node.http_port}"


def test_standin_waits_for_both_nodes(run_module, make_node, repo_db) -> None:
    a = make_node("a", repo_db, delay=1).start()
    b = make_node("b", repo_db, delay=1).start()
    a.wait_serving()
    result = run_module(
        "idm_cluster_info",
        {
            "url": _url(a),
            "admin_password": "openidm-admin",
            "wait_running": ["a", "b"],
            "timeout": 60,
            "interval": 0.2,
        },
    )
    assert not result.get("failed"), (result, a.diagnostics(), b.diagnostics())
    assert result["running"] == ["a", "b"]
    assert {i["instanceId"] for i in result["instances"]} == {"a", "b"}


def test_c9_standin_recovery_variant_killed_node_is_not_running(
    run_module, make_node, repo_db
) -> None:
    """The stricter C9 variant: the killed node keeps the top-level state running, its recovery
    object says processing-down; the module must not call it running."""
    boot = {"standin.variant.c9": "recovery"}
    watcher = make_node("watcher", repo_db, cluster=SLOW_RECOVERY, boot=boot).start()
    victim = make_node("victim", repo_db, cluster=SLOW_RECOVERY, boot=boot).start()
    watcher.wait_ready()
    victim.wait_ready()
    wait_for(lambda: "victim" in watcher.cluster(), 5, "victim row")
    victim.kill()
    entry = wait_for(
        lambda: (
            (watcher.cluster()["victim"].get("recovery") or {}).get("state") == "processing-down"
            and watcher.cluster()["victim"]
        ),
        10,
        "victim in recovery",
    )
    assert entry["state"] == "running"  # the older shape, as the variant promises
    args = {"url": _url(watcher), "admin_password": "openidm-admin"}
    listed = run_module("idm_cluster_info", args)
    assert not listed.get("failed"), listed
    assert listed["states"] == {"victim": "processing-down", "watcher": "running"}
    assert listed["running"] == ["watcher"]
    waited = run_module(
        "idm_cluster_info", {**args, "wait_running": ["victim"], "timeout": 1, "interval": 0.2}
    )
    assert waited.get("failed") is True, waited
    assert "victim=processing-down" in waited["msg"]
