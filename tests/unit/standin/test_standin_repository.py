"""The repository of the IDM stand-in (test double) follows the product contract, rows C1..C5:
the default conf/ runs on an embedded repository, the PostgreSQL files ship under
db/postgresql/, the DDL drops the schema first, and the datasource password is encrypted at
start-up and written back to the file."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from idm_standin import crypto
from standin_harness import wait_for


def _datasource(node) -> dict:
    return json.loads(node.conf("datasource.jdbc-default.json").read_text())


def _key_of(node) -> bytes:
    store = pkcs12.load_pkcs12(node.keystore_file().read_bytes(), b"changeit")
    return crypto.key_from_private_key(store.key)


def _cluster_rows(pg, dbname) -> list[str]:
    return [
        row[0] for row in pg.query(dbname, "SELECT objectid FROM openidm.clusterobjects ORDER BY 1")
    ]


def test_c1_default_conf_uses_embedded_repo(dist):
    conf = dist / "conf"
    assert (conf / "repo.ds.json").is_file()
    assert json.loads((conf / "repo.ds.json").read_text())["embedded"] is True
    assert not (conf / "repo.jdbc.json").exists()
    assert not (conf / "datasource.jdbc-default.json").exists()
    shipped = dist / "db" / "postgresql" / "conf"
    assert json.loads((shipped / "repo.jdbc.json").read_text())["dbType"] == "POSTGRESQL"
    assert (shipped / "datasource.jdbc-default.json").is_file()


def test_c1_node_on_repo_ds_forms_no_cluster(make_node, repo_db, pg, dist):
    on_pg = make_node("pg", repo_db).start()
    alone = make_node("alone", None).start()  # conf/ as shipped: repo.ds.json
    on_pg.wait_ready()
    alone.wait_ready()
    wait_for(lambda: "pg" in on_pg.cluster(), 5, "pg in its own cluster table")
    assert set(alone.cluster()) == {"alone"}
    assert set(on_pg.cluster()) == {"pg"}
    assert _cluster_rows(pg, repo_db) == ["pg"]
    assert (alone.home / "db" / "openidm" / "embedded-repo.sqlite3").is_file()
    assert "embedded DS repository" in alone.log_text()
    # Its datasource under db/postgresql/conf/ is never read, so never rewritten.
    shipped = alone.home / "db" / "postgresql" / "conf" / "datasource.jdbc-default.json"
    assert shipped.read_text() == (dist / shipped.relative_to(alone.home)).read_text()


def test_c1_repo_ds_wins_over_repo_jdbc(make_node, repo_db, pg, dist):
    """Both files in conf/ (PostgreSQL files copied, repo.ds.json not removed): the node stays
    on its embedded repository and never joins the PostgreSQL cluster (contract C1)."""
    first = make_node("first", repo_db).start()
    both = make_node("both", repo_db)
    shutil.copy(dist / "conf" / "repo.ds.json", both.conf("repo.ds.json"))
    both.start()
    first.wait_ready()
    both.wait_ready()
    time.sleep(0.5)
    assert set(both.cluster()) == {"both"}
    assert _cluster_rows(pg, repo_db) == ["first"]
    assert "repo.jdbc.json are both present" in both.log_text()


def test_c1_no_repository_configuration_is_fatal(make_node):
    node = make_node("n", None)
    node.conf("repo.ds.json").unlink()
    node.start()
    assert node.wait_exit() != 0
    assert "neither repo.ds.json" in node.log_text()


def test_c2_ddl_rerun_drops_data(pg, repo_db, scripts):
    text = (scripts / "openidm.pgsql").read_text()
    statements = [line for line in text.splitlines() if line and not line.startswith("--")]
    assert statements[:2] == [
        "DROP SCHEMA IF EXISTS openidm CASCADE;",
        "CREATE SCHEMA openidm AUTHORIZATION openidm;",
    ]
    pg.query(
        repo_db,
        "INSERT INTO openidm.internaluser (objectid, rev, pwd) VALUES ('marker', '0', 'x')",
    )
    again = pg.psql(scripts / "openidm.pgsql", repo_db)
    assert again.returncode == 0, again.stderr  # silently succeeds ...
    rows = pg.query(repo_db, "SELECT objectid FROM openidm.internaluser ORDER BY 1")
    assert rows == [("anonymous",), ("openidm-admin",)]  # ... and the marker row is gone


def test_c3_createuser_role_and_db(pg, scripts):
    text = (scripts / "createuser.pgsql").read_text().lower()
    assert "create database openidm" in text
    assert "create role openidm with login nosuperuser nocreatedb nocreaterole" in text
    assert "password 'openidm'" in text
    role = pg.query(
        "postgres",
        "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles"
        " WHERE rolname = 'openidm'",
    )
    assert role == [(True, False, False, False)]
    assert pg.query("postgres", "SELECT 1 FROM pg_database WHERE datname = 'openidm'") == [(1,)]
    ddl = (scripts / "openidm.pgsql").read_text()
    assert "AUTHORIZATION openidm" in ddl and "openidm.configobjects" in ddl
    for name in ("audit.pgsql", "flowable.postgres.all.create.sql"):
        assert (scripts / name).is_file()
    assert (scripts / "default_schema_optimization.pgsql").is_file()


def test_c3_optimization_script_runs_after_the_schema(pg, repo_db, scripts):
    result = pg.psql(scripts / "default_schema_optimization.pgsql", repo_db)
    assert result.returncode == 0, result.stderr


def test_c4_datasource_fields(dist):
    doc = json.loads((dist / "db/postgresql/conf/datasource.jdbc-default.json").read_text())
    assert doc["driverClass"] == "org.postgresql.Driver"
    assert doc["jdbcUrl"] == "jdbc:postgresql://&{openidm.repo.host}:&{openidm.repo.port}/openidm"
    assert (doc["databaseName"], doc["username"], doc["password"]) == ("openidm",) * 3
    assert doc["connectionTimeout"] == 30000
    assert doc["connectionPool"]["type"] == "hikari"
    assert {"minimumIdle", "maximumPoolSize"} <= set(doc["connectionPool"])


def test_c5_password_encrypted_and_file_rewritten(make_node, repo_db):
    a = make_node("a", repo_db)
    b = make_node("b", repo_db)
    written = a.conf("datasource.jdbc-default.json").read_text()
    assert _datasource(a)["password"] == "openidm" and _datasource(b) == _datasource(a)
    a.conf("datasource.jdbc-default.json").chmod(0o600)
    a.start()
    b.start()
    a.wait_ready()
    b.wait_ready()
    after_a, after_b = _datasource(a), _datasource(b)
    assert a.conf("datasource.jdbc-default.json").read_text() != written
    assert crypto.is_encrypted(after_a["password"]) and crypto.is_encrypted(after_b["password"])
    assert after_a["password"] != after_b["password"]  # random IV: the nodes' files differ
    assert crypto.decrypt(after_a["password"], _key_of(a)) == "openidm"
    # Everything else is as it was written, property expressions included.
    plain = json.loads(written)
    assert {k: v for k, v in after_a.items() if k != "password"} == {
        k: v for k, v in plain.items() if k != "password"
    }
    assert (a.conf("datasource.jdbc-default.json").stat().st_mode & 0o777) == 0o600
    assert "openidm" not in after_a["password"]["$crypto"]["value"]["data"]
    # A restart decrypts the stored value with the keystore's key, and leaves the file alone.
    a.terminate()
    a.wait_exit()
    rewritten = a.conf("datasource.jdbc-default.json").read_text()
    a.start().wait_ready()
    assert a.conf("datasource.jdbc-default.json").read_text() == rewritten


def test_c5_write_back_off_keeps_the_file(make_node, repo_db):
    node = make_node("n", repo_db, boot={"felix.fileinstall.enableConfigSave": "false"})
    written = node.conf("datasource.jdbc-default.json").read_text()
    node.start().wait_ready()
    assert node.conf("datasource.jdbc-default.json").read_text() == written


def test_c5_password_of_another_keystore_is_fatal(make_node, repo_db):
    a = make_node("a", repo_db).start().wait_ready()
    a.terminate()
    a.wait_exit()
    other = make_node("other", repo_db, keys=False)  # generates its own keystore
    shutil.copy(a.conf("datasource.jdbc-default.json"), other.conf("datasource.jdbc-default.json"))
    other.start()
    assert other.wait_exit() != 0
    assert "cannot decrypt" in other.log_text()


def test_crypto_round_trip_and_errors():
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = crypto.key_from_private_key(rsa.generate_private_key(65537, 2048))
    other = crypto.key_from_private_key(rsa.generate_private_key(65537, 2048))
    assert len(key) == 32
    one, two = crypto.encrypt("s3cret", key, "alias"), crypto.encrypt("s3cret", key, "alias")
    assert one != two and one["$crypto"]["value"]["key"] == "alias"
    assert one["$crypto"]["type"] == "x-simple-encryption"
    assert one["$crypto"]["value"]["cipher"] == "AES/GCM/NoPadding"
    assert crypto.decrypt(one, key) == "s3cret"
    assert not crypto.is_encrypted("s3cret") and crypto.is_encrypted(one)
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(one, other)
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt({"$crypto": {"type": "x-simple-encryption", "value": {}}}, key)
