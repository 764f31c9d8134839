"""idm_admin_password against a tiny local server and a real stand-in node: the documented PATCH
with the old password (reauthentication header, If-Match), idempotence (the wanted password is
tried first), check mode, neither password accepted, no password in the output."""

from __future__ import annotations

import pytest

DEFAULT = "openidm-admin"
WANTED = "Wanted-s3cret"


def _args(url: str) -> dict:
    return {"url": url, "admin_password": WANTED, "old_password": DEFAULT}


def test_replaces_the_default_once(run_module, fake) -> None:
    server = fake(password=DEFAULT)
    first = run_module("idm_admin_password", _args(server.url))
    assert not first.get("failed"), first
    assert first["changed"] is True and first["status"] == 200
    assert server.password == WANTED
    (patch,) = server.of("PATCH")
    assert patch.path == "/openidm/internal/user/openidm-admin"
    assert patch.body == [{"operation": "replace", "field": "/password", "value": WANTED}]
    assert patch.headers["x-openidm-reauth-password"] == DEFAULT
    assert patch.headers["if-match"] == "*"
    assert patch.headers["accept-api-version"] == "resource=1.0"
    assert patch.headers["x-openidm-nosession"] == "true"
    # tried first, then changed, then proven
    assert [s.method for s in server.requests] == ["GET", "PATCH", "GET"]
    again = run_module("idm_admin_password", _args(server.url))
    assert not again.get("failed"), again
    assert again["changed"] is False
    assert len(server.of("PATCH")) == 1
    assert WANTED not in first["_stdout"] + again["_stdout"]


def test_check_mode_reports_without_patching(run_module, fake) -> None:
    server = fake(password=DEFAULT)
    result = run_module("idm_admin_password", _args(server.url), check_mode=True)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert server.of("PATCH") == [] and server.password == DEFAULT
    server.password = WANTED
    done = run_module("idm_admin_password", _args(server.url), check_mode=True)
    assert done["changed"] is False


@pytest.mark.parametrize("check_mode", [False, True])
def test_neither_password_works(run_module, fake, check_mode) -> None:
    server = fake(password="changed-by-hand")
    result = run_module("idm_admin_password", _args(server.url), check_mode=check_mode)
    assert result.get("failed") is True, result
    assert "accepts neither admin_password nor old_password" in result["msg"]
    assert result["status"] == 401
    assert server.password == "changed-by-hand"
    assert WANTED not in result["_stdout"]


def test_refused_connection(run_module) -> None:
    result = run_module("idm_admin_password", _args("http://127.0.0.1:1"))
    assert result.get("failed") is True and result["status"] == -1, result
    assert "Nothing listens there" in result["msg"]


def test_standin_password_changed_once_and_the_old_one_refused(
    run_module, make_node, repo_db
) -> None:
    a = make_node("a", repo_db).start()
    b = make_node("b", repo_db).start()
    a.wait_ready()
    b.wait_ready()
    args = _args(f"http://127.0.0.1:{a.http_port}")
    first = run_module("idm_admin_password", args)
    assert not first.get("failed"), (first, a.diagnostics())
    assert first["changed"] is True
    query = "/openidm/cluster?_queryFilter=true"
    for node in (a, b):  # stored in the repository: every node
        assert node.get(query, auth=("openidm-admin", WANTED)).status == 200
        assert node.get(query, auth=("openidm-admin", DEFAULT)).status == 401
    again = run_module("idm_admin_password", args)
    assert not again.get("failed"), again
    assert again["changed"] is False
