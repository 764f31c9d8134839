"""idm_config against real stand-in nodes (a test double of PingIDM) in repository mode: objects
put once through one node and read through another, idempotence, check mode with diff, secrets
never shown, and refusals of bad names."""

from __future__ import annotations

ADMIN = ("openidm-admin", "openidm-admin")
MANAGED = {"objects": [{"name": "user", "schema": {"properties": {"mail": {"type": "string"}}}}]}
LDAP = {
    "connectorRef": {"bundleName": "org.forgerock.openicf.connectors.ldap-connector"},
    "configurationProperties": {"principal": "cn=idm", "credentials": "Ldap-s3cret"},
}
OFF = {"openidm.fileinstall.enabled": "false"}


def _args(node, **extra) -> dict:
    return {
        "url": f"http://127.0.0.1:{node.http_port}",
        "admin_password": ADMIN[1],
        "objects": {"managed": MANAGED, "sync": {"mappings": []}},
        "secret_objects": {"provisioner.openicf/ldap": LDAP},
        **extra,
    }


def test_objects_are_put_once_and_read_through_every_node(run_module, make_node, repo_db) -> None:
    a = make_node("a", repo_db, boot=OFF).start()
    b = make_node("b", repo_db, boot=OFF).start()
    a.wait_ready()
    b.wait_ready()
    first = run_module("idm_config", _args(a))
    assert not first.get("failed"), (first, a.diagnostics())
    assert first["changed"] is True
    assert first["changed_pids"] == ["managed", "provisioner.openicf/ldap", "sync"]
    assert first["created_pids"] == first["changed_pids"]
    on_b = b.get("/openidm/config/managed", auth=ADMIN)
    assert on_b.status == 200 and on_b.json["objects"] == MANAGED["objects"]
    ldap = b.get("/openidm/config/provisioner.openicf/ldap", auth=ADMIN).json
    assert ldap["configurationProperties"]["principal"] == "cn=idm"
    assert "Ldap-s3cret" not in first["_stdout"]

    again = run_module("idm_config", _args(b))
    assert not again.get("failed"), again
    assert (again["changed"], again["changed_pids"]) == (False, [])

    # Check mode: the change is reported with a diff, nothing is put; the secret is not shown.
    changed = _args(a, _ansible_diff=True)
    changed["objects"]["sync"] = {"mappings": [{"name": "systemLdap_managedUser"}]}
    changed["secret_objects"]["provisioner.openicf/ldap"] = {**LDAP, "enabled": False}
    check = run_module("idm_config", changed, check_mode=True)
    assert check["changed"] is True
    assert check["changed_pids"] == ["provisioner.openicf/ldap", "sync"]
    assert check["diff"]["after"]["sync"] == {"mappings": [{"name": "systemLdap_managedUser"}]}
    assert check["diff"]["before"]["provisioner.openicf/ldap"] == "(secret)"
    assert "Ldap-s3cret" not in check["_stdout"]
    assert a.get("/openidm/config/sync", auth=ADMIN).json["mappings"] == []

    # force puts an object even when it compares equal (an encrypted secret that changed).
    forced = run_module("idm_config", _args(a, force=["sync"]))
    assert forced["changed_pids"] == ["sync"] and forced["created_pids"] == []


def test_bad_names_and_a_pid_given_twice_are_refused(run_module) -> None:
    args = {"url": "http://127.0.0.1:1", "admin_password": "x"}
    bad = run_module("idm_config", {**args, "objects": {"a/b/c": {}}})
    assert bad.get("failed") is True and "not configuration object names" in bad["msg"]
    twice = run_module(
        "idm_config", {**args, "objects": {"sync": {}}, "secret_objects": {"sync": {}}}
    )
    assert twice.get("failed") is True and "given twice" in twice["msg"]


def test_an_unreachable_node_names_the_url(run_module) -> None:
    result = run_module(
        "idm_config", {"url": "http://127.0.0.1:1", "admin_password": "x", "objects": {"sync": {}}}
    )
    assert result.get("failed") is True and "127.0.0.1:1" in result["msg"]
