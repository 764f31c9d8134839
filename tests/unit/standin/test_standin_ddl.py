"""The IDM stand-in's (test double) SQL scripts behave like the product's: they create the
schema the stand-in needs; openidm.pgsql drops it first, the others are not idempotent."""

from __future__ import annotations

REQUIRED_TABLES = {
    "objecttypes",
    "configobjects",
    "clusterobjects",
    "schedulerobjects",
    "securitykeys",
    "internaluser",
    "genericobjects",
    "managedobjects",
    "relationships",
    "standin_schedule_runs",
}


def test_schema_and_default_admin(pg, repo_db):
    tables = {
        row[0]
        for row in pg.query(
            repo_db, "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            ["openidm"],
        )
    }  # fmt: skip
    assert tables >= REQUIRED_TABLES
    # What the collection probes to decide whether the DDL already ran:
    probe = pg.query(
        repo_db,
        "SELECT 1 FROM information_schema.tables"
        " WHERE table_schema = 'openidm' AND table_name = 'configobjects'",
    )
    assert probe == [(1,)]
    owner = pg.query(repo_db, "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = %s",
                     ["openidm"])  # fmt: skip
    assert owner == [("openidm",)]
    assert pg.query(repo_db, "SELECT pwd FROM openidm.internaluser WHERE objectid = %s",
                    ["openidm-admin"]) == [("openidm-admin",)]  # fmt: skip


def test_persisted_trigger_recorded_once(pg, repo_db):
    insert = (
        "INSERT INTO openidm.standin_schedule_runs (schedule, fire_time, node_id, persisted)"
        " VALUES ('s', '2025-01-01T00:00:00Z', %s, %s)"
        " ON CONFLICT (schedule, fire_time) WHERE persisted DO NOTHING RETURNING id"
    )
    assert len(pg.query(repo_db, insert, ["n1", True])) == 1
    assert pg.query(repo_db, insert, ["n2", True]) == []
    assert len(pg.query(repo_db, insert, ["n1", False])) == 1
    assert len(pg.query(repo_db, insert, ["n2", False])) == 1


def test_scripts_other_than_openidm_pgsql_fail_when_run_twice(pg, repo_db, scripts):
    # openidm.pgsql drops the schema first and succeeds again (test_c2_ddl_rerun_drops_data).
    for name in ("audit.pgsql", "flowable.postgres.all.create.sql"):
        # As a superuser: from PostgreSQL 15 on, the repository user may not create tables in
        # the public schema, where the workflow tables go.
        first = pg.psql(scripts / name, repo_db, user="postgres")
        assert first.returncode == 0, first.stderr
        second = pg.psql(scripts / name, repo_db, user="postgres")
        assert second.returncode != 0 and "already exists" in second.stderr
    # createuser.pgsql ran once for the session (the fixture); a second run fails as well.
    second = pg.psql(scripts / "createuser.pgsql", "postgres", user="postgres")
    assert second.returncode != 0 and "already exists" in second.stderr
