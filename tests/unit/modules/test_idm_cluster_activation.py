"""idm_cluster_activation against a tiny local server and a real stand-in node in active/passive
mode: read, set (If-Match: *), idempotence, check mode, diff, 404 without active/passive, 401."""

from __future__ import annotations

SECRET = "s3cret-Pa55"


# The fake fixture (conftest.py) starts FakeIdm servers with these defaults.
FAKE_IDM_DEFAULTS = {"password": SECRET}


def _args(url: str, **more) -> dict:
    return {"url": url, "admin_password": SECRET, **more}


def test_reads_without_changing(run_module, fake) -> None:
    server = fake(activation="STANDBY")
    result = run_module("idm_cluster_activation", _args(server.url))
    assert not result.get("failed"), result
    assert result == {**result, "changed": False, "state": "STANDBY", "previous": "STANDBY"}
    assert server.of("PUT") == []


def test_sets_once_then_is_idempotent(run_module, fake) -> None:
    server = fake(activation="STANDBY")
    first = run_module("idm_cluster_activation", _args(server.url, state="ACTIVE"))
    assert not first.get("failed"), first
    assert first["changed"] is True
    assert (first["previous"], first["state"]) == ("STANDBY", "ACTIVE")
    (put,) = server.of("PUT")
    assert put.path == "/openidm/cluster/active" and put.body == {"state": "ACTIVE"}
    assert put.headers["if-match"] == "*" and put.headers["x-openidm-nosession"] == "true"
    again = run_module("idm_cluster_activation", _args(server.url, state="ACTIVE"))
    assert not again.get("failed"), again
    assert again["changed"] is False and again["state"] == "ACTIVE"
    assert len(server.of("PUT")) == 1


def test_check_mode_reports_the_change_with_a_diff(run_module, fake) -> None:
    server = fake(activation="ACTIVE")
    args = _args(server.url, state="STANDBY", _ansible_diff=True)
    result = run_module("idm_cluster_activation", args, check_mode=True)
    assert not result.get("failed"), result
    assert result["changed"] is True and result["state"] == "STANDBY"
    assert result["diff"] == {"before": {"state": "ACTIVE"}, "after": {"state": "STANDBY"}}
    assert server.of("PUT") == [] and server.activation == "ACTIVE"


def test_without_active_passive_it_says_so(run_module, fake) -> None:
    server = fake(activation=None)
    result = run_module("idm_cluster_activation", _args(server.url, state="ACTIVE"))
    assert result.get("failed") is True, result
    assert result["status"] == 404
    assert "org.forgerock.feature.cluster.active.passive" in result["msg"]
    assert server.of("PUT") == []


def test_401_fails_or_is_an_answer(run_module, fake) -> None:
    server = fake()
    wrong = {**_args(server.url, state="ACTIVE"), "admin_password": "wrong-one"}
    failed = run_module("idm_cluster_activation", wrong)
    assert failed.get("failed") is True and failed["status"] == 401, failed
    assert "check the admin password" in failed["msg"]
    answer = run_module("idm_cluster_activation", {**wrong, "fail_on_unauthorized": False})
    assert not answer.get("failed"), answer
    assert answer["changed"] is False and answer["status"] == 401 and answer["state"] is None
    assert server.of("PUT") == []


def test_refused_connection(run_module) -> None:
    result = run_module("idm_cluster_activation", _args("http://127.0.0.1:1", state="ACTIVE"))
    assert result.get("failed") is True and result["status"] == -1, result
    assert "Nothing listens there" in result["msg"]


def test_standin_node_in_standby_is_activated_once(run_module, make_node, repo_db) -> None:
    node = make_node(
        "ap",
        repo_db,
        boot={
            "org.forgerock.feature.cluster.active.passive": "true",
            "org.forgerock.feature.cluster.improved": "true",
        },
    ).start()
    node.wait_ready()
    args = {"url": f"http://127.0.0.1:{node.http_port}", "admin_password": "openidm-admin"}
    read = run_module("idm_cluster_activation", args)
    assert not read.get("failed"), read
    assert read["state"] == "STANDBY"
    checked = run_module("idm_cluster_activation", {**args, "state": "ACTIVE"}, check_mode=True)
    assert checked["changed"] is True
    assert node.get("/openidm/cluster/active", auth="admin").json == {"state": "STANDBY"}
    first = run_module("idm_cluster_activation", {**args, "state": "ACTIVE"})
    assert not first.get("failed"), first
    assert first["changed"] is True and first["state"] == "ACTIVE"
    assert node.get("/openidm/cluster/active", auth="admin").json == {"state": "ACTIVE"}
    again = run_module("idm_cluster_activation", {**args, "state": "ACTIVE"})
    assert again["changed"] is False and again["state"] == "ACTIVE"
