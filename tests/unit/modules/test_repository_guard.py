"""repository_guard against a real PostgreSQL: a database of another cluster or another
application, and an existing role whose password does not log in, are refused before anything
changes; IDM's own (new or deployed) repository passes. Each test runs the module as its own
process (see conftest.py)."""

from __future__ import annotations

import itertools
import os
import secrets

import pytest

_numbers = itertools.count(1)
ADMIN = "guard_admin"


@pytest.fixture(scope="session")
def guard_admin(pg_server) -> str:
    """A password-login superuser: the repository phase's admin login."""
    password = secrets.token_urlsafe(16)
    pg_server.admin.execute(f"CREATE ROLE {ADMIN} LOGIN SUPERUSER PASSWORD '{password}'")
    return password


@pytest.fixture
def names(pg_server):
    """Fresh database and role names for the test; whatever was created is dropped after it."""
    number = f"{os.getpid()}_{next(_numbers)}"
    made = {"database": f"guard_db_{number}", "role": f"guard_idm_{number}",
            "other": f"guard_app_{number}", "password": secrets.token_urlsafe(12)}  # fmt: skip
    yield made
    pg_server.admin.execute(f"DROP DATABASE IF EXISTS {made['database']} WITH (FORCE)")
    pg_server.admin.execute(f"DROP ROLE IF EXISTS {made['role']}")
    pg_server.admin.execute(f"DROP ROLE IF EXISTS {made['other']}")


@pytest.fixture
def guard(run_module, pg_server, guard_admin, names):
    def run(**extra) -> dict:
        args = {
            "login_host": "127.0.0.1",
            "login_port": pg_server.port,
            "login_user": ADMIN,
            "login_password": guard_admin,
            "login_db": "postgres",
            "database": names["database"],
            "role": names["role"],
            "role_password": names["password"],
            "node_ids": ["node1", "node2"],
            "connect_timeout": 5,
            **extra,
        }
        return run_module("repository_guard", args)

    return run


def deploy(pg_server, names, rows=()) -> None:
    """IDM's repository as the role phase and the DDL leave it, with cluster rows (id, age s)."""
    admin = pg_server.admin
    admin.execute(f"CREATE ROLE {names['role']} LOGIN PASSWORD '{names['password']}'")
    admin.execute(f"CREATE DATABASE {names['database']} OWNER {names['role']}")
    sql = [
        f"SET ROLE {names['role']}",
        "CREATE SCHEMA openidm",
        "CREATE TABLE openidm.clusterobjects"
        " (id BIGSERIAL PRIMARY KEY, objectid TEXT, fullobject JSONB)",
        # The product's workflow tables land in the IDM role's default schema.
        "CREATE TABLE public.act_ge_property (name_ TEXT)",
    ]
    for node_id, age in rows:
        sql.append(
            "INSERT INTO openidm.clusterobjects (objectid, fullobject) VALUES ("
            f"'{node_id}', jsonb_build_object('instanceId', '{node_id}', 'state', 'running',"
            f" 'timestamp', (extract(epoch FROM now()) * 1000)::bigint - {age * 1000}))"
        )
    pg_server.query(names["database"], "; ".join(sql))


def test_a_new_repository_passes(guard) -> None:
    result = guard()
    assert not result.get("failed"), result["msg"]
    assert result["database_exists"] is False and result["role_exists"] is False
    assert result["changed"] is False


def test_this_clusters_repository_passes(guard, pg_server, names) -> None:
    deploy(pg_server, names, rows=[("node1", 1), ("node2", 2), ("old9", 7200)])
    result = guard()
    assert not result.get("failed"), result["msg"]
    assert result["database_exists"] and result["role_exists"] and result["role_login"]
    assert [row["id"] for row in result["instances"]] == ["node1", "node2", "old9"]
    assert result["foreign_objects"] == []


def test_another_cluster_on_the_database_is_refused(guard, pg_server, names) -> None:
    deploy(pg_server, names, rows=[("node1", 1), ("othernode1", 5), ("othernode2", 100)])
    result = guard()
    assert result["failed"]
    assert "in use by another cluster" in result["msg"], result["msg"]
    assert "othernode1 (running, " in result["msg"] and "othernode2 (running, " in result["msg"]
    assert " node1 (" not in result["msg"] and "nothing was changed" in result["msg"]
    # The window decides what is recent; 0 turns the check off.
    result = guard(checkin_window=50)
    assert result["failed"] and "othernode1" in result["msg"] and "othernode2" not in result["msg"]
    assert not guard(checkin_window=3).get("failed")
    assert not guard(checkin_window=0).get("failed")


def test_old_rows_of_other_ids_pass(guard, pg_server, names) -> None:
    deploy(pg_server, names, rows=[("node1", 1), ("renamed", 3600)])
    assert not guard().get("failed")


def test_another_applications_database_is_refused(guard, pg_server, names) -> None:
    admin = pg_server.admin
    admin.execute(f"CREATE ROLE {names['other']} LOGIN")
    admin.execute(f"CREATE DATABASE {names['database']} OWNER {names['other']}")
    pg_server.query(names["database"], f"CREATE SCHEMA keycloak AUTHORIZATION {names['other']}")
    pg_server.query(names["database"], "CREATE SCHEMA empty_one")
    assert not guard().get("failed")  # empty schemas hold nothing to lose
    pg_server.query(
        names["database"],
        f"SET ROLE {names['other']}; CREATE TABLE keycloak.realm (id TEXT)",
    )
    result = guard()
    assert result["failed"]
    assert "belongs to another application" in result["msg"], result["msg"]
    assert f"keycloak.realm ({names['other']})" in result["msg"]
    assert "idm_repo_database" in result["msg"]


def test_foreign_tables_in_public_are_refused(guard, pg_server, names) -> None:
    deploy(pg_server, names)
    pg_server.query(names["database"], "CREATE TABLE public.orders (id INT)")  # owned by postgres
    result = guard()
    assert result["failed"] and "public.orders (postgres)" in result["msg"], result


def test_an_existing_role_keeps_its_password(guard, pg_server, names) -> None:
    pg_server.admin.execute(f"CREATE ROLE {names['role']} LOGIN PASSWORD 'the-other-clusters'")
    result = guard()
    assert result["failed"]
    assert f"the database role {names['role']} exists" in result["msg"], result["msg"]
    assert "idm_repo_update_password: always" in result["msg"]
    assert names["password"] not in result["_stdout"]
    # Reset on purpose: nothing to refuse (the caller resets it).
    assert not guard(update_password="always").get("failed")
    # The right password logs in.
    pg_server.admin.execute(f"ALTER ROLE {names['role']} PASSWORD '{names['password']}'")
    assert guard()["role_login"] is True


def test_recent_rows_of_nodes_that_shut_down_are_not_another_cluster():
    """A removed or renamed node writes ``down`` with a fresh timestamp as it stops."""
    from ansible_collections.idm_automation.cluster.plugins.modules.repository_guard import (
        recent_foreign,
    )

    rows = [
        {"id": "gone", "state": "down", "age": 5},
        {"id": "other1", "state": "running", "age": 5},
        {"id": "other2", "state": "processing-down", "age": 5},
        {"id": "old", "state": "running", "age": 5000},
        {"id": "node1", "state": "running", "age": 1},
    ]
    assert [r["id"] for r in recent_foreign(rows, ["node1"], 600)] == ["other1", "other2"]
    assert recent_foreign(rows, ["node1"], 0) == []


MANAGED = "guard_managed_admin"


@pytest.fixture(scope="session")
def managed_admin(pg_server) -> str:
    """A managed service's admin: LOGIN, CREATEDB and CREATEROLE, not a superuser."""
    password = secrets.token_urlsafe(16)
    pg_server.admin.execute(
        f"CREATE ROLE {MANAGED} LOGIN CREATEDB CREATEROLE NOSUPERUSER PASSWORD '{password}'"
    )
    return password


def test_an_admin_that_is_no_superuser_reads_the_cluster_table_as_the_idm_role(
    guard, pg_server, names, managed_admin
) -> None:
    """It may not read the IDM role's schema: the guard reads the cluster table as the IDM role
    and still refuses another cluster's rows."""
    deploy(pg_server, names, rows=[("node1", 1), ("othernode1", 5)])
    as_managed = {"login_user": MANAGED, "login_password": managed_admin}
    result = guard(**as_managed)
    assert result["failed"] and "othernode1 (running, " in result["msg"], result["msg"]
    result = guard(**as_managed, node_ids=["node1", "othernode1"])
    assert not result.get("failed"), result["msg"]
    assert [row["id"] for row in result["instances"]] == ["node1", "othernode1"]
    # Without the IDM role's password there is no way to read it: refused, nothing changed.
    result = guard(**as_managed, role_password=None)
    assert result["failed"] and "may not read openidm.clusterobjects" in result["msg"]
