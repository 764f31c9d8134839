"""Cluster manager of the IDM stand-in (test double): check-ins, failure detection by
instanceTimeout/instanceRecoveryTimeout, enabled:false, clean shutdown, readiness."""

from __future__ import annotations

import socket
import subprocess
import time

from standin_harness import FAST_CLUSTER, request, wait_for


def _state(node, instance_id):
    return node.cluster().get(instance_id, {}).get("state")


def _row(pg, dbname, instance_id) -> dict:
    rows = pg.query(
        dbname,
        "SELECT fullobject FROM openidm.clusterobjects c JOIN openidm.objecttypes t"
        " ON t.id = c.objecttypes_id WHERE t.objecttype = 'cluster/states' AND c.objectid = %s",
        [instance_id],
    )
    return rows[0][0]


def test_two_nodes_see_each_other_running(make_node, repo_db, pg):
    a = make_node("a", repo_db).start()
    b = make_node("b", repo_db).start()
    a.wait_ready()
    b.wait_ready()
    for node in (a, b):
        states = wait_for(
            lambda node=node: len(node.cluster()) == 2 and node.cluster(), 5, "two nodes"
        )
        assert {k: v["state"] for k, v in states.items()} == {"a": "running", "b": "running"}
        assert set(states["a"]) >= {"_id", "instanceId", "state", "startup", "shutdown"}
        assert states["b"]["shutdown"] == "" and states["b"]["startup"].endswith("Z")
        by_id = node.get("/openidm/cluster?_queryId=query-cluster-instances", auth="admin")
        assert [e["instanceId"] for e in by_id.json["result"]] == ["a", "b"]
    single = a.get("/openidm/cluster/b", auth="admin")
    assert single.status == 200 and single.json["instanceId"] == "b"
    assert single.headers["X-IDM-Node-Id"] == "a"
    assert a.get("/openidm/cluster/nope", auth="admin").status == 404
    assert a.get("/openidm/cluster", auth="admin").status == 400
    # The stored row is what the API reports, with the check-in details.
    row = _row(pg, repo_db, "b")
    assert row["state"] == "running" and isinstance(row["timestamp"], int)
    assert row["home"] == str(b.home) and row["host"]


def test_dead_node_goes_processing_down_then_down_but_not_for_disabled_watchers(
    make_node, repo_db, pg, scripts
):
    other_db = pg.create_database(scripts)
    watcher = make_node("watcher", repo_db)
    watcher2 = make_node("watcher2", repo_db)  # two watchers race for every transition
    victim = make_node("victim", repo_db)
    disabled = {**FAST_CLUSTER, "enabled": False}
    blind = make_node("blind", other_db, cluster=disabled)
    blind_victim = make_node("blind-victim", other_db, cluster=disabled)
    nodes = (watcher, watcher2, victim, blind, blind_victim)
    for node in nodes:
        node.start()
    for node in nodes:
        node.wait_ready()
    wait_for(lambda: _state(watcher, "victim") == "running", 5, "victim running")
    wait_for(lambda: _state(blind, "blind-victim") == "running", 5, "blind-victim running")

    victim.kill()
    blind_victim.kill()
    wait_for(lambda: _state(watcher, "victim") == "processing-down", 10, "processing-down")
    wait_for(lambda: _state(watcher, "victim") == "down", 10, "down")
    row = _row(pg, repo_db, "victim")
    recovery = row["recovery"]
    assert recovery["recoveringInstanceId"] in ("watcher", "watcher2")
    # processing-down only after instanceTimeout without a check-in, down only after
    # instanceRecoveryTimeout in recovery
    assert recovery["recoveringTimestamp"] - row["timestamp"] > 1000
    assert recovery["recoveryFinishedTimestamp"] - recovery["recoveringTimestamp"] > 1000
    assert row["shutdown"]
    # each transition is a conditional update: applied once, by one of the watchers
    logs = watcher.log_text() + watcher2.log_text()
    assert logs.count("instance victim missed its check-ins") == 1
    assert logs.count("instance victim stayed in recovery") == 1
    assert "marked processing-down" in logs and "marked down" in logs

    # enabled:false nodes check in but detect nothing: the dead node stays "running".
    assert _state(blind, "blind-victim") == "running"
    assert "recovery" not in _row(pg, other_db, "blind-victim")
    before = _row(pg, other_db, "blind")["timestamp"]
    wait_for(lambda: _row(pg, other_db, "blind")["timestamp"] > before, 5, "blind checks in")

    # A node that checks in again is running again.
    victim.start().wait_ready()
    wait_for(lambda: _state(watcher, "victim") == "running", 5, "victim running again")


def test_clean_shutdown_marks_the_node_down(make_node, repo_db):
    a = make_node("a", repo_db).start()
    b = make_node("b", repo_db, grace=0.8).start()
    a.wait_ready()
    b.wait_ready()
    wait_for(lambda: _state(a, "b") == "running", 5, "b running")

    stopper = subprocess.Popen(
        [str(b.home / "shutdown.sh")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    seen: dict[str, int] = {}

    def stopping():
        reply = b.try_get("/openidm/info/ping", auth="anonymous")
        if reply is not None and reply.json["state"] == "STOPPING":
            seen["ready"] = b.get("/openidm/health/ready", auth="anonymous").status
            return True
        return False

    wait_for(stopping, 5, "STOPPING during the grace period")
    assert seen["ready"] == 503
    assert stopper.wait(timeout=35) == 0
    assert b.wait_exit(timeout=5) == 0
    assert b.try_get("/openidm/health/live", auth="anonymous") is None  # listeners closed
    state = a.cluster()["b"]
    assert state["state"] == "down" and state["shutdown"].endswith("Z")
    assert not (b.home / ".openidm.pid").exists()
    again = subprocess.run([str(b.home / "shutdown.sh")], capture_output=True, text=True)
    assert again.returncode == 0 and "not running" in again.stdout
    assert "cluster state of b set to down" in b.log_text()


def test_in_flight_request_finishes_during_shutdown(make_node, repo_db):
    node = make_node("n", repo_db, grace=0)
    node.start().wait_ready()
    slow = socket.create_connection(("127.0.0.1", node.http_port))
    slow.sendall(
        b"GET /openidm/health/live HTTP/1.1\r\nHost: localhost\r\n"
        b"X-OpenIDM-Username: anonymous\r\nX-OpenIDM-Password: anonymous\r\n"
    )  # unfinished
    time.sleep(0.3)  # let the listener accept it: only accepted connections are in flight
    node.terminate()
    wait_for(lambda: "stopping: not ready" in node.log_text(), 5, "stopping")
    time.sleep(0.3)  # long enough for a process that does not wait to be gone
    slow.sendall(b"\r\n")
    reply = slow.recv(4096)
    slow.close()
    assert reply.startswith(b"HTTP/1.1 503")  # answered (STOPPING), not dropped
    assert node.wait_exit() == 0


def test_not_ready_while_the_repository_check_in_fails(make_node, repo_db, pg):
    node = make_node("n", repo_db)
    node.start().wait_ready()
    pg.query(repo_db, "ALTER TABLE openidm.clusterobjects RENAME TO clusterobjects_gone")
    reply = wait_for(
        lambda: (r := node.get("/openidm/health/ready", auth="anonymous")).status == 503 and r,
        5,
        "not ready",
    )
    assert "repository check-in failed" in reply.json["message"]
    assert "cluster check-in failed" in node.log_text()
    pg.query(repo_db, "ALTER TABLE openidm.clusterobjects_gone RENAME TO clusterobjects")
    node.wait_ready(timeout=5)
    ping = request(node.http_port, "GET", "/openidm/info/ping", auth="anonymous")
    assert ping.json["state"] == "ACTIVE_READY"
