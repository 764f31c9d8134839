"""repository_schema against a real PostgreSQL: the DDL once, in order, in one transaction, under
an advisory lock; never dropped or re-created; clear failures. No mocks: each test runs the module
as its own process (see conftest.py) against a fresh database owned by the module's login role."""

from __future__ import annotations

import hashlib
import json
import socket
import time
from pathlib import Path

import psycopg
import pytest
from standin_harness import wait_for

REPO_ROOT = Path(__file__).resolve().parents[3]

COMMENT_PREFIX = "idm_automation.cluster DDL "
APP_NAME = "idm_automation.cluster repository_schema"
LOCK_KEY = 7170111100  # the module's default lock_key

# Three scripts in the shape of the product's DDL: the main one drops the schema first (as the
# product's openidm.pgsql does), the others are plain CREATE. Each appends its name to
# openidm.ddl_log, so the order in which they ran is recorded.
MAIN = {
    "name": "openidm.pgsql",
    "content": """-- repository tables
DROP SCHEMA IF EXISTS openidm CASCADE;
CREATE SCHEMA openidm;
CREATE TABLE openidm.ddl_log (n SERIAL PRIMARY KEY, script TEXT NOT NULL);
CREATE TABLE openidm.configobjects (
  id BIGSERIAL PRIMARY KEY,
  objectid VARCHAR(255) NOT NULL UNIQUE,
  fullobject JSONB
);
INSERT INTO openidm.ddl_log (script) VALUES ('openidm.pgsql');
""",
}
AUDIT = {
    "name": "audit.pgsql",
    "content": """CREATE TABLE openidm.auditaccess (id BIGSERIAL PRIMARY KEY, entry JSONB);
INSERT INTO openidm.ddl_log (script) VALUES ('audit.pgsql');
""",
}
FLOWABLE = {
    "name": "flowable.postgres.all.create.sql",
    "content": """CREATE TABLE openidm.act_ge_property (name VARCHAR(64) PRIMARY KEY, value TEXT);
INSERT INTO openidm.act_ge_property VALUES ('schema.version', '7.1.0');
INSERT INTO openidm.ddl_log (script) VALUES ('flowable.postgres.all.create.sql');
""",
}
SCRIPTS = [MAIN, AUDIT, FLOWABLE]


@pytest.fixture
def schema_args(schema_owner, empty_db):
    """Module arguments for the test's database, logged in as the owner role."""

    def args(scripts=None, **extra):
        return {
            "login_host": schema_owner.host,
            "login_port": schema_owner.port,
            "login_user": schema_owner.user,
            "login_password": schema_owner.password,
            "login_db": empty_db,
            "scripts": SCRIPTS if scripts is None else scripts,
            "connect_timeout": 5,
            **extra,
        }

    return args


@pytest.fixture
def db(pg_server, empty_db):
    """Queries against the test's database, as the superuser."""

    class Database:
        name = empty_db

        def query(self, sql: str, params=None) -> list[tuple]:
            return pg_server.query(empty_db, sql, params)

        def schema_exists(self) -> bool:
            return bool(self.query("SELECT 1 FROM pg_namespace WHERE nspname = 'openidm'"))

        def user_tables(self) -> list[str]:
            return [
                f"{schema}.{table}"
                for schema, table in self.query(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            ]

        def ddl_log(self) -> list[str]:
            return [row[0] for row in self.query("SELECT script FROM openidm.ddl_log ORDER BY n")]

        def comment(self) -> str | None:
            rows = self.query(
                "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace "
                "WHERE nspname = 'openidm'"
            )
            return rows[0][0] if rows else None

        def oids(self) -> dict[str, int]:
            return dict(
                self.query(
                    "SELECT c.relname, c.oid::bigint FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'openidm'"
                )
            )

    return Database()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def recorded_comment(comment: str | None) -> dict[str, str]:
    assert comment and comment.startswith(COMMENT_PREFIX), comment
    return json.loads(comment[len(COMMENT_PREFIX) :])


def assert_nothing_left(db) -> None:
    """No IDM schema and no table of any script: nothing of the DDL was committed."""
    assert not db.schema_exists()
    assert db.user_tables() == []


def advisory_waiters(db) -> list[int]:
    """PIDs of the module's backends waiting for an advisory lock in the test's database."""
    rows = db.query(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s "
        "AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
        (db.name, APP_NAME),
    )
    return [row[0] for row in rows]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Creating the schema --------------------------------------------------------------------------


def test_applies_the_scripts_in_order_once_and_records_their_checksums(run_module, schema_args, db):
    result = run_module("repository_schema", schema_args())
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["applied"] == [s["name"] for s in SCRIPTS]
    assert result["differs"] == []
    assert db.ddl_log() == [s["name"] for s in SCRIPTS]  # ran in the given order
    expected = {s["name"]: sha256(s["content"]) for s in SCRIPTS}
    assert recorded_comment(db.comment()) == expected
    assert result["recorded"] == expected
    # Owned by the login role, as IDM expects of its repository user.
    owner = db.query("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'openidm'")
    assert owner == [(schema_args()["login_user"],)]

    again = run_module("repository_schema", schema_args())
    assert not again.get("failed"), again
    assert again["changed"] is False
    assert again["applied"] == []
    assert again["differs"] == []
    assert again["recorded"] == expected
    assert db.ddl_log() == [s["name"] for s in SCRIPTS]  # nothing ran a second time


def test_a_failing_script_rolls_back_everything(run_module, schema_args, db):
    broken = {
        "name": "audit.pgsql",
        "content": "CREATE TABLE openidm.auditaccess (id BIGSERIAL PRIMARY KEY);\n"
        "SELECT no_such_function();\n",
    }
    result = run_module("repository_schema", schema_args([MAIN, broken, FLOWABLE]))
    assert result.get("failed") is True, result
    assert "audit.pgsql failed" in result["msg"]
    assert "no_such_function" in result["msg"]
    assert "rolled back" in result["msg"]
    # Transactional DDL: nothing of the first script (nor of the second's first statement) is left.
    assert_nothing_left(db)
    # So the corrected scripts apply cleanly (the plain CREATEs would fail on any leftover).
    fixed = run_module("repository_schema", schema_args())
    assert fixed["changed"] is True, fixed
    assert db.ddl_log() == [s["name"] for s in SCRIPTS]


def test_a_connection_lost_half_way_leaves_nothing_and_fails_clearly(
    start_module, schema_args, db, pg_server
):
    """The repository goes away in the middle of the DDL (here: its backend is terminated while
    the second script runs): the module fails with a message naming the repository, and nothing
    of the first script is left behind."""
    slow = {
        "name": "audit.pgsql",
        "content": "CREATE TABLE openidm.auditaccess (id BIGSERIAL PRIMARY KEY);\n"
        "SELECT pg_sleep(30);\n",
    }
    module = start_module("repository_schema", schema_args([MAIN, slow]))

    def sleeping_backend():
        rows = db.query(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s "
            "AND wait_event = 'PgSleep'",
            (db.name, APP_NAME),
        )
        return rows[0][0] if rows else None

    pid = wait_for(sleeping_backend, 30, "the module's backend to run the second script")
    db.query("SELECT pg_terminate_backend(%s)", (pid,))
    module.process.wait(timeout=60)
    # Nothing was committed: no schema, no table of the first script.
    assert_nothing_left(db)
    # A clean failure (JSON, not a traceback) that names the repository and the script.
    result = module.result(timeout=10)
    assert result.get("failed") is True, result
    assert f"{schema_args()['login_host']}:{schema_args()['login_port']}" in result["msg"], result
    assert "audit.pgsql" in result["msg"], result


def test_two_runs_at_once_apply_the_ddl_once(start_module, schema_args, db, pg_server):
    """Both runs wait on the advisory lock (held here by the test until both wait); the one that
    gets it applies the DDL while the other keeps waiting, then finds the schema."""
    slow_main = {**MAIN, "content": MAIN["content"] + "SELECT pg_sleep(2);\n"}
    scripts = [slow_main, AUDIT, FLOWABLE]
    holder = psycopg.connect(
        host=str(pg_server.sock), port=pg_server.port, user="postgres", dbname=db.name,
        autocommit=True,
    )  # fmt: skip
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        runs = [start_module("repository_schema", schema_args(scripts)) for _ in range(2)]
        wait_for(lambda: len(advisory_waiters(db)) == 2, 60, "both runs to wait on the lock")
        holder.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        # One applies (sleeping inside its transaction), the other still waits on the lock.
        wait_for(lambda: len(advisory_waiters(db)) == 1, 10, "one run to take the lock")
        assert len(advisory_waiters(db)) == 1
    finally:
        holder.close()
    results = [run.result(timeout=120) for run in runs]
    assert [r.get("failed", False) for r in results] == [False, False], results
    assert sorted(r["changed"] for r in results) == [False, True], results
    winner = next(r for r in results if r["changed"])
    loser = next(r for r in results if not r["changed"])
    assert winner["applied"] == [s["name"] for s in scripts]
    assert loser["applied"] == []
    assert loser["differs"] == []
    # The DDL objects exist once: every script ran exactly once.
    assert db.ddl_log() == [s["name"] for s in scripts]
    assert db.query("SELECT count(*) FROM pg_namespace WHERE nspname = 'openidm'") == [(1,)]


def test_a_lock_held_too_long_fails_cleanly(run_module, schema_args, db, pg_server):
    holder = psycopg.connect(
        host=str(pg_server.sock), port=pg_server.port, user="postgres", dbname=db.name,
        autocommit=True,
    )  # fmt: skip
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        started = time.monotonic()
        result = run_module("repository_schema", schema_args(lock_timeout=1))
        assert time.monotonic() - started < 30
    finally:
        holder.close()
    assert result.get("failed") is True, result
    assert "lock timeout" in result["msg"], result
    assert "rolled back" in result["msg"], result
    assert not db.schema_exists()


# --- An existing schema ---------------------------------------------------------------------------


def test_changed_scripts_are_reported_never_reapplied(run_module, schema_args, db):
    assert run_module("repository_schema", schema_args())["changed"] is True
    db.query(
        "INSERT INTO openidm.configobjects (objectid, fullobject) VALUES ('sync', '{\"a\": 1}')"
    )
    oids = db.oids()
    comment = db.comment()

    newer_audit = {
        **AUDIT,
        "content": AUDIT["content"] + "ALTER TABLE openidm.auditaccess ADD COLUMN node TEXT;\n",
    }
    result = run_module("repository_schema", schema_args([MAIN, newer_audit, FLOWABLE]))
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["applied"] == []
    assert result["differs"] == ["audit.pgsql"]
    warnings = result.get("warnings", [])
    assert any("audit.pgsql" in str(w) for w in warnings), result
    # Nothing dropped, truncated, re-created or altered.
    assert db.query("SELECT objectid, fullobject FROM openidm.configobjects") == [
        ("sync", {"a": 1})
    ]
    assert db.oids() == oids
    assert db.comment() == comment
    assert "node" not in [
        row[0]
        for row in db.query(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'openidm' AND table_name = 'auditaccess'"
        )
    ]
    assert db.ddl_log() == [s["name"] for s in SCRIPTS]


def test_create_false_refuses_an_absent_schema(run_module, schema_args, db):
    result = run_module("repository_schema", schema_args(create=False))
    assert result.get("failed") is True, result
    assert "has no IDM schema" in result["msg"]
    assert "openidm.configobjects is missing" in result["msg"]
    assert "rolled back" in result["msg"]
    assert_nothing_left(db)


def test_create_false_accepts_an_existing_schema(run_module, schema_args, db):
    assert run_module("repository_schema", schema_args())["changed"] is True
    result = run_module("repository_schema", schema_args(create=False))
    assert not result.get("failed"), result
    assert result["changed"] is False


def test_check_mode_reports_the_change_and_makes_none(run_module, schema_args, db):
    result = run_module("repository_schema", schema_args(), check_mode=True)
    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["applied"] == [s["name"] for s in SCRIPTS]
    assert_nothing_left(db)


def test_check_mode_on_an_existing_schema_reports_no_change(run_module, schema_args, db):
    run_module("repository_schema", schema_args())
    result = run_module("repository_schema", schema_args(), check_mode=True)
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["applied"] == []


# --- Unreachable or refusing repository -----------------------------------------------------------


def test_an_unreachable_server_fails_naming_it(run_module, schema_args, db):
    port = closed_port()
    result = run_module("repository_schema", schema_args(login_port=port))
    assert result.get("failed") is True, result
    assert "unreachable" in result["msg"]
    assert f"127.0.0.1:{port}" in result["msg"]
    assert "nothing was changed" in result["msg"]
    assert not db.schema_exists()


def test_a_wrong_password_fails_clearly_without_printing_it(run_module, schema_args, db):
    wrong = "Wrong-Password-5b0e31"
    result = run_module("repository_schema", schema_args(login_password=wrong))
    assert result.get("failed") is True, result
    assert "password authentication failed" in result["msg"], result
    assert schema_args()["login_user"] in result["msg"]
    assert "pg_hba.conf" in result["msg"]  # the fix
    assert wrong not in result["_stdout"] + result["_stderr"]
    assert not db.schema_exists()


def test_a_script_without_content_is_refused_before_connecting(run_module, schema_args, db):
    result = run_module("repository_schema", schema_args([MAIN, {"name": "audit.pgsql"}]))
    assert result.get("failed") is True, result
    assert "scripts[1]" in result["msg"]
    assert not db.schema_exists()


def test_the_password_is_never_echoed(run_module, schema_args, schema_owner):
    result = run_module("repository_schema", schema_args())
    assert schema_owner.password not in result["_stdout"] + result["_stderr"]


# --- The destructive DDL: never over existing tables ----------------------------------------------


MARKER = "INSERT INTO openidm.configobjects (objectid, fullobject) VALUES ('marker', '{}')"


def marker_rows(db) -> list[tuple]:
    return db.query("SELECT objectid FROM openidm.configobjects ORDER BY 1")


def test_a_second_run_keeps_the_marker_rows(run_module, schema_args, db):
    assert run_module("repository_schema", schema_args())["changed"] is True
    db.query(MARKER)
    for _ in range(2):
        again = run_module("repository_schema", schema_args())
        assert not again.get("failed"), again
        assert again["changed"] is False and again["applied"] == [] and again["pending"] == []
    assert marker_rows(db) == [("marker",)]
    assert db.ddl_log() == [s["name"] for s in SCRIPTS]


def test_concurrent_runs_apply_once_and_keep_the_marker_rows(start_module, schema_args, db):
    first = start_module("repository_schema", schema_args()).result()
    assert first["changed"] is True, first
    db.query(MARKER)
    runs = [start_module("repository_schema", schema_args()) for _ in range(3)]
    results = [run.result(timeout=120) for run in runs]
    assert [r["changed"] for r in results] == [False] * 3, results
    assert marker_rows(db) == [("marker",)]


def test_a_partial_schema_is_refused(run_module, schema_args, db):
    assert run_module("repository_schema", schema_args())["changed"] is True
    db.query(MARKER)
    db.query("DROP TABLE openidm.ddl_log")
    result = run_module("repository_schema", schema_args())
    assert result.get("failed") is True, result
    assert "is partial" in result["msg"] and "openidm.ddl_log" in result["msg"], result
    assert "DROP SCHEMA openidm CASCADE" in result["msg"]  # the fix
    assert marker_rows(db) == [("marker",)]


def test_a_partial_schema_without_the_marker_table_is_refused(run_module, schema_args, db):
    db.query("CREATE SCHEMA openidm AUTHORIZATION " + schema_args()["login_user"])
    db.query("CREATE TABLE openidm.ddl_log (n SERIAL PRIMARY KEY, script TEXT NOT NULL)")
    db.query("INSERT INTO openidm.ddl_log (script) VALUES ('kept')")
    result = run_module("repository_schema", schema_args())
    assert result.get("failed") is True, result
    assert "is partial" in result["msg"] and "openidm.configobjects" in result["msg"], result
    assert db.query("SELECT script FROM openidm.ddl_log") == [("kept",)]


def test_a_schema_with_unknown_tables_is_refused(run_module, schema_args, db):
    db.query("CREATE SCHEMA openidm AUTHORIZATION " + schema_args()["login_user"])
    db.query("CREATE TABLE openidm.invoices (id INT)")
    result = run_module("repository_schema", schema_args())
    assert result.get("failed") is True, result
    assert "invoices" in result["msg"] and "foreign" in result["msg"], result
    assert db.query("SELECT to_regclass('openidm.invoices') IS NOT NULL") == [(True,)]


def test_a_schema_owned_by_another_role_is_refused(run_module, schema_args, db):
    db.query("CREATE SCHEMA openidm")  # owned by the superuser
    result = run_module("repository_schema", schema_args())
    assert result.get("failed") is True, result
    assert "owned by postgres" in result["msg"], result
    assert db.query("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = 'openidm'") == [(0,)]  # fmt: skip


def test_an_empty_schema_of_the_login_role_is_filled(run_module, schema_args, db):
    db.query("CREATE SCHEMA openidm AUTHORIZATION " + schema_args()["login_user"])
    result = run_module("repository_schema", schema_args())
    assert result["changed"] is True, result
    assert db.ddl_log() == [s["name"] for s in SCRIPTS]


def test_a_script_added_later_is_reported_not_run(run_module, schema_args, db):
    assert run_module("repository_schema", schema_args([MAIN]))["changed"] is True
    db.query(MARKER)
    result = run_module("repository_schema", schema_args([MAIN, AUDIT, FLOWABLE]))
    assert not result.get("failed"), result
    assert result["changed"] is False and result["applied"] == []
    assert result["pending"] == ["audit.pgsql", "flowable.postgres.all.create.sql"]
    assert any("audit.pgsql" in str(w) and "NOT run" in str(w) for w in result["warnings"])
    assert marker_rows(db) == [("marker",)]
    assert db.ddl_log() == ["openidm.pgsql"]


def test_a_later_script_creating_no_table_is_reported_from_the_record(run_module, schema_args, db):
    assert run_module("repository_schema", schema_args())["changed"] is True
    index = {"name": "default_schema_optimization.pgsql",
             "content": "CREATE INDEX idx_cfg ON openidm.configobjects (objectid);\n"}  # fmt: skip
    result = run_module("repository_schema", schema_args([*SCRIPTS, index]))
    assert result["changed"] is False and result["pending"] == [index["name"]], result


def test_table_names_are_read_from_the_scripts():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "repository_schema", REPO_ROOT / "plugins" / "modules" / "repository_schema.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = 'create table IF NOT EXISTS "openidm"."Odd" (x int); -- CREATE TABLE openidm.no\n'
    text += "CREATE TABLE act_ge_property (a int); CREATE UNLOGGED TABLE openidm.t2 (b int);"
    assert module.created_tables(text) == ["openidm.Odd", "act_ge_property", "openidm.t2"]
    assert module.is_destructive(MAIN["content"]) and not module.is_destructive(AUDIT["content"])


# --- Updating a schema made for another release ---------------------------------------------------

# The next release's DDL: the same tables, configobjects with one more column; its update script
# adds that column to a schema of the previous release (not idempotent: a second run would fail).
MAIN_NEXT = {
    "name": "openidm.pgsql",
    "content": MAIN["content"].replace(
        "  fullobject JSONB\n", "  fullobject JSONB,\n  activation VARCHAR(16)\n"
    ),
}
UPDATE = {
    "name": "01-configobjects-activation.sql",
    "content": "ALTER TABLE openidm.configobjects ADD COLUMN activation VARCHAR(16);\n"
    "INSERT INTO openidm.ddl_log (script) VALUES ('01-configobjects-activation.sql');\n",
}
NEXT = [MAIN_NEXT, AUDIT, FLOWABLE]


def columns(db) -> list[str]:
    return [
        row[0]
        for row in db.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'openidm' "
            "AND table_name = 'configobjects' ORDER BY ordinal_position"
        )
    ]


def test_a_new_schema_records_the_release_updates_as_had(run_module, schema_args, db):
    created = run_module("repository_schema", schema_args(NEXT, updates=[UPDATE]))
    assert created["changed"] is True, created
    assert "activation" in columns(db)
    assert recorded_comment(db.comment())["updates/" + UPDATE["name"]] == sha256(UPDATE["content"])
    again = run_module("repository_schema", schema_args(NEXT, updates=[UPDATE], update=True))
    assert again["changed"] is False, again
    assert again["update_needed"] is False and again["pending_updates"] == []
    assert db.ddl_log() == [s["name"] for s in SCRIPTS]  # the update never ran


def test_an_older_schema_is_reported_then_updated_once_with_the_config_cleared(
    run_module, schema_args, db
):
    assert run_module("repository_schema", schema_args())["changed"] is True
    db.query("INSERT INTO openidm.configobjects (objectid, fullobject) VALUES ('x', '{}')")

    reported = run_module("repository_schema", schema_args(NEXT, updates=[UPDATE]))
    assert not reported.get("failed"), reported
    assert reported["changed"] is False
    assert reported["update_needed"] is True
    assert reported["differs"] == ["openidm.pgsql"]
    assert reported["pending_updates"] == [UPDATE["name"]]
    assert any("upgrade.yml" in str(w) for w in reported.get("warnings", [])), reported
    assert "activation" not in columns(db)

    checked = run_module(
        "repository_schema",
        schema_args(NEXT, updates=[UPDATE], update=True),
        check_mode=True,
    )
    assert checked["changed"] is True and checked["updated"] == [UPDATE["name"]], checked
    assert "activation" not in columns(db)
    assert db.query("SELECT count(*) FROM openidm.configobjects") == [(1,)]

    updated = run_module("repository_schema", schema_args(NEXT, updates=[UPDATE], update=True))
    assert not updated.get("failed"), updated
    assert updated["changed"] is True
    assert updated["updated"] == [UPDATE["name"]]
    assert updated["cleared"] == ["openidm.configobjects"]  # configobjectproperties: absent
    assert updated["update_needed"] is False
    assert "activation" in columns(db)
    assert db.query("SELECT count(*) FROM openidm.configobjects") == [(0,)]
    assert db.ddl_log() == [*(s["name"] for s in SCRIPTS), UPDATE["name"]]
    expected = {s["name"]: sha256(s["content"]) for s in NEXT}
    expected["updates/" + UPDATE["name"]] = sha256(UPDATE["content"])
    assert recorded_comment(db.comment()) == expected

    again = run_module("repository_schema", schema_args(NEXT, updates=[UPDATE], update=True))
    assert again["changed"] is False, again
    assert again["differs"] == [] and again["pending_updates"] == []
    assert db.ddl_log() == [*(s["name"] for s in SCRIPTS), UPDATE["name"]]


def test_a_failing_update_changes_nothing(run_module, schema_args, db):
    assert run_module("repository_schema", schema_args())["changed"] is True
    db.query("INSERT INTO openidm.configobjects (objectid, fullobject) VALUES ('x', '{}')")
    broken = {"name": "02-broken.sql", "content": "ALTER TABLE openidm.nosuch ADD COLUMN y INT;\n"}
    failed = run_module(
        "repository_schema", schema_args(NEXT, updates=[UPDATE, broken], update=True)
    )
    assert failed.get("failed") is True, failed
    assert "02-broken.sql failed" in failed["msg"]
    assert "activation" not in columns(db)  # the first update rolled back with it
    assert db.query("SELECT count(*) FROM openidm.configobjects") == [(1,)]  # not cleared
    assert recorded_comment(db.comment()) == {s["name"]: sha256(s["content"]) for s in SCRIPTS}


def test_update_scripts_need_a_name_and_content(run_module, schema_args):
    result = run_module("repository_schema", schema_args(updates=[{"name": "x.sql"}]))
    assert result.get("failed") is True
    assert "updates[0] needs a 'name' and a 'content' string" in result["msg"]
