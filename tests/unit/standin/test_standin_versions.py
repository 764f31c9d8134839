"""The IDM stand-in's (test double) product versions and their repository schemas: from 8.1.0 on
``openidm.clusterobjects`` has the column ``activation`` (the test double's invented schema
change), which 8.1's DDL creates, 8.1's update script adds to an 8.0 repository, and 8.1's
check-in writes; 8.0.0 never touches it."""

from __future__ import annotations

import shutil
import sqlite3
import time

import pytest
from standin_harness import FAST_CLUSTER, VERSIONS, wait_for

UPDATE = "updates/01-clusterobjects-activation.sql"
FLAGS = {
    "org.forgerock.feature.cluster.active.passive": "true",
    "org.forgerock.feature.cluster.improved": "true",
}


def _activation_column(pg, dbname) -> list[tuple]:
    return pg.query(
        dbname,
        "SELECT data_type, character_maximum_length, is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'openidm' AND table_name = 'clusterobjects'"
        " AND column_name = 'activation'",
    )


def _row(pg, dbname, instance_id, columns: str = "c.activation, c.fullobject") -> tuple | None:
    """The node's row of the cluster table (only the columns an 8.0 schema has, when asked)."""
    rows = pg.query(
        dbname,
        f"SELECT {columns} FROM openidm.clusterobjects c"
        " JOIN openidm.objecttypes t ON t.id = c.objecttypes_id"
        " WHERE t.objecttype = 'cluster/states' AND c.objectid = %s",
        [instance_id],
    )
    return rows[0] if rows else None


def _fullobject(pg, dbname, instance_id) -> dict | None:
    row = _row(pg, dbname, instance_id, columns="c.fullobject")
    return row[0] if row else None


def _update(pg, versioned_dist, dbname, version="8.1.0"):
    script = versioned_dist(version) / "db" / "postgresql" / "scripts" / UPDATE
    return pg.psql(script, dbname)


def test_8_0_ddl_lacks_the_column_and_8_1_ddl_has_it(pg, schema_db, repo_db):
    assert _activation_column(pg, schema_db("8.0.0")) == []
    expected = [("character varying", 16, "YES")]
    assert _activation_column(pg, schema_db("8.1.1")) == expected
    assert _activation_column(pg, repo_db) == expected  # the default zip's DDL is 8.1.0's


def test_update_script_adds_the_column_once(pg, schema_db, versioned_dist):
    old = schema_db("8.0.0")
    pg.query(
        old,
        "INSERT INTO openidm.objecttypes (objecttype) VALUES ('cluster/states');"
        " INSERT INTO openidm.clusterobjects (objecttypes_id, objectid, rev, fullobject)"
        " SELECT id, 'node1', '3', '{\"state\": \"down\"}' FROM openidm.objecttypes",
    )
    first = _update(pg, versioned_dist, old)  # as the repository user, like the operator
    assert first.returncode == 0, first.stderr
    assert _activation_column(pg, old) == [("character varying", 16, "YES")]
    assert _row(pg, old, "node1") == (None, {"state": "down"})  # existing rows are kept
    second = _update(pg, versioned_dist, old)
    assert second.returncode != 0
    assert 'column "activation" of relation "clusterobjects" already exists' in second.stderr
    # Run against an 8.1 schema it fails the same way.
    assert _update(pg, versioned_dist, schema_db("8.1.0")).returncode != 0


def test_8_1_node_on_an_8_0_schema_is_never_ready(make_version_node, schema_db, pg):
    old = schema_db("8.0.0")
    node = make_version_node("8.1.0", "new", old).start()
    node.wait_serving()  # no start-up refusal: the required tables are all there
    wait_for(lambda: "cluster check-in failed" in node.log_text(), 10, "the check-in error")
    time.sleep(1.0)  # several check-in intervals (200 ms): every one fails
    assert node.running()
    log = node.log_text()
    assert 'column "activation" of relation "clusterobjects" does not exist' in log
    assert log.count("cluster check-in failed") == 1  # logged once while the problem lasts
    assert "OpenIDM ready" not in log
    ready = node.get("/openidm/health/ready", auth="anonymous")
    assert ready.status == 503
    assert 'column "activation"' in ready.json["message"]
    assert "repository check-in failed" in ready.json["message"]
    ping = node.get("/openidm/info/ping", auth="anonymous").json
    assert ping["state"] == "ACTIVE_NOT_READY" and 'column "activation"' in ping["shortDesc"]
    assert _fullobject(pg, old, "new") is None  # nothing was stored


def test_8_0_node_works_on_both_schemas_and_never_writes_the_column(
    make_version_node, schema_db, pg
):
    old = schema_db("8.0.0")
    node = make_version_node("8.0.0", "old", old).start().wait_ready()
    assert _fullobject(pg, old, "old")["productVersion"] == "8.0.0"
    node.kill()

    # 8.0.0 on the 8.1 schema (an updated repository, or one 8.1's DDL made): still works, and
    # the column stays NULL even with active/passive on.
    new = schema_db("8.1.0")
    node = make_version_node("8.0.0", "old-on-new", new, boot=FLAGS).start().wait_ready()
    activation, obj = _row(pg, new, "old-on-new")
    assert activation is None and obj["activation"] == "STANDBY"


def test_upgrade_8_0_to_8_1_with_the_update_script(
    make_version_node, schema_db, pg, versioned_dist
):
    db = schema_db("8.0.0")
    old = make_version_node("8.0.0", "v80", db, node_id="node1").start().wait_ready()
    old.terminate()  # the update runs while IDM is shut down
    assert old.wait_exit() == 0
    assert _fullobject(pg, db, "node1")["state"] == "down"
    result = _update(pg, versioned_dist, db)
    assert result.returncode == 0, result.stderr

    new = make_version_node("8.1.0", "v81", db, node_id="node1").start().wait_ready()
    activation, obj = wait_for(
        lambda: (r := _row(pg, db, "node1")) and r[1]["state"] == "running" and r,
        5,
        "the 8.1 check-in",
    )
    assert activation is None  # not active/passive: NULL
    assert obj["productVersion"] == "8.1.0"
    new.kill()

    # With active/passive on, the column holds the node's activation state and follows it.
    standby = make_version_node("8.1.1", "v811", db, node_id="node2", boot=FLAGS).start()
    standby.wait_ready()
    assert wait_for(lambda: _row(pg, db, "node2"), 5, "node2's row")[0] == "STANDBY"
    assert standby.activate().status == 200
    wait_for(lambda: _row(pg, db, "node2")[0] == "ACTIVE", 5, "activation ACTIVE stored")
    assert _row(pg, db, "node2")[1]["activation"] == "ACTIVE"


@pytest.mark.parametrize("version", VERSIONS)
def test_every_report_of_the_version_follows_the_build(make_version_node, schema_db, pg, version):
    db = schema_db(version)
    node = make_version_node(version, f"v{version}", db, node_id="n").start().wait_ready()
    assert f'-> OpenIDM version "{version}"' in node.stdout_path.read_text()
    major_minor = version.rsplit(".", 1)[0]
    assert f"test double of PingIDM {major_minor}, not the product" in node.stdout_path.read_text()
    assert f"of PingIDM {version} starting" in node.log_text()
    info = node.get("/openidm/info/version", auth="anonymous").json
    assert info["productVersion"] == version
    assert _fullobject(pg, db, "n")["productVersion"] == version


def test_8_1_embedded_store_made_by_8_0_gets_the_column(make_version_node):
    """The embedded repository is the node's own: 8.1 brings a store 8.0 created up to date."""
    old = make_version_node("8.0.0", "emb80", None, cluster=FAST_CLUSTER).start().wait_ready()
    store = old.home / "db" / "openidm" / "embedded-repo.sqlite3"
    old.terminate()
    assert old.wait_exit() == 0

    def columns(path):
        with sqlite3.connect(path) as conn:
            return {row[1] for row in conn.execute("PRAGMA table_info(clusterobjects)")}

    assert "activation" not in columns(store)
    new = make_version_node("8.1.0", "emb81", None, cluster=FAST_CLUSTER)
    target = new.home / "db" / "openidm"
    target.mkdir(parents=True)
    shutil.copy2(store, target / store.name)
    new.start().wait_ready()
    assert "activation" in columns(target / store.name)
