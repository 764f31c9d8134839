"""The embedded repository of the IDM stand-in (test double): what ``conf/repo.ds.json`` selects.

PingIDM's default ``conf/`` ships ``repo.ds.json``: the node keeps its data in an embedded
ForgeRock DS of its own, under its working location. Such a node never reads PostgreSQL, so it
forms no cluster with other nodes: its cluster table holds itself only. The stand-in models the
embedded DS with a local SQLite file (``<working location>/db/openidm/embedded-repo.sqlite3``)
holding the tables the stand-in uses, behind a connection that accepts the stand-in's
PostgreSQL statements (``%s`` parameters, ``::type`` casts, the ``openidm.`` schema, the
repository clock).
"""

from __future__ import annotations

import datetime
import json
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg.types.json import Json, Jsonb

from idm_standin import CLUSTER_ACTIVATION_COLUMN, StandinError
from idm_standin.repo import RepoError

DB_FILE = Path("db") / "openidm" / "embedded-repo.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS openidm.objecttypes (
  id INTEGER PRIMARY KEY AUTOINCREMENT, objecttype TEXT UNIQUE);
CREATE TABLE IF NOT EXISTS openidm.configobjects (
  id INTEGER PRIMARY KEY AUTOINCREMENT, objecttypes_id INTEGER NOT NULL,
  objectid TEXT NOT NULL, rev TEXT NOT NULL, fullobject JSONB, UNIQUE (objecttypes_id, objectid));
CREATE TABLE IF NOT EXISTS openidm.clusterobjects (
  id INTEGER PRIMARY KEY AUTOINCREMENT, objecttypes_id INTEGER NOT NULL,
  objectid TEXT NOT NULL, rev TEXT NOT NULL, fullobject JSONB,{activation}
  UNIQUE (objecttypes_id, objectid));
CREATE TABLE IF NOT EXISTS openidm.securitykeys (
  objectid TEXT PRIMARY KEY, rev TEXT NOT NULL, keypair TEXT);
CREATE TABLE IF NOT EXISTS openidm.internaluser (
  objectid TEXT PRIMARY KEY, rev TEXT NOT NULL, pwd TEXT);
CREATE TABLE IF NOT EXISTS openidm.standin_schedule_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT, schedule TEXT NOT NULL, fire_time TIMESTAMPTZ NOT NULL,
  node_id TEXT NOT NULL, persisted BOOLEAN NOT NULL, outcome TEXT NOT NULL DEFAULT 'ok',
  ran_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE UNIQUE INDEX IF NOT EXISTS openidm.idx_standin_schedule_runs_trigger
  ON standin_schedule_runs (schedule, fire_time) WHERE persisted;
INSERT OR IGNORE INTO openidm.internaluser (objectid, rev, pwd)
  VALUES ('openidm-admin', '0', 'openidm-admin'), ('anonymous', '0', 'anonymous');
""".replace("{activation}", " activation TEXT," if CLUSTER_ACTIVATION_COLUMN else "")
_CAST = re.compile(r"::\s*[a-z_]+", re.IGNORECASE)
_CLOCK = re.compile(r"extract\s*\(\s*epoch\s+FROM\s+clock_timestamp\s*\(\s*\)\s*\)", re.IGNORECASE)
_setup_lock = threading.Lock()


class EmbeddedError(RepoError):
    """The embedded repository cannot be used (caught like a PostgreSQL failure)."""


def _to_json(value: Json) -> str:
    return json.dumps(value.obj)


sqlite3.register_adapter(Jsonb, _to_json)
sqlite3.register_adapter(Json, _to_json)
sqlite3.register_adapter(dict, json.dumps)
sqlite3.register_adapter(datetime.datetime, lambda d: d.isoformat())
sqlite3.register_converter("JSONB", json.loads)


def translate(sql: str) -> str:
    """A stand-in PostgreSQL statement as SQLite understands it."""
    sql = _CLOCK.sub("clock_epoch()", sql)
    return _CAST.sub("", sql).replace("%s", "?")


class Cursor:
    def __init__(self, cursor: sqlite3.Cursor):
        self._cursor = cursor
        self.rowcount = cursor.rowcount
        self.description = cursor.description

    def fetchone(self) -> tuple | None:
        try:
            return self._cursor.fetchone()
        except sqlite3.Error as exc:
            raise EmbeddedError(f"embedded repository: {exc}") from None

    def fetchall(self) -> list[tuple]:
        try:
            return self._cursor.fetchall()
        except sqlite3.Error as exc:
            raise EmbeddedError(f"embedded repository: {exc}") from None


class Connection:
    """Enough of a psycopg connection (autocommit) for the stand-in's statements."""

    def __init__(self, path: Path):
        self._conn = sqlite3.connect(
            ":memory:",
            detect_types=sqlite3.PARSE_DECLTYPES,
            isolation_level=None,
            check_same_thread=False,
            timeout=10,
        )
        self._conn.create_function("clock_epoch", 0, time.time)
        self._conn.execute("ATTACH DATABASE ? AS openidm", [str(path)])
        self._conn.execute("PRAGMA openidm.busy_timeout = 10000")
        self.closed = False
        self.broken = False

    def execute(self, sql: str, params: Any = None) -> Cursor:
        try:
            return Cursor(self._conn.execute(translate(sql), list(params or [])))
        except sqlite3.Error as exc:
            raise EmbeddedError(f"embedded repository: {exc}") from None

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._conn.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class EmbeddedDatasource:
    """Same interface as :class:`idm_standin.repo.Datasource`, for the embedded store."""

    path: Path
    file: str = "repo.ds.json"
    user: str = "embedded"

    def describe(self) -> str:
        return f"embedded DS repository {self.path}"

    def explain(self, exc: Exception) -> str:
        return f"{self.describe()} (conf/{self.file}): {' '.join(str(exc).split())}"

    def connect(self, application_name: str = "") -> Connection:
        del application_name  # one local file, no server to tell
        return Connection(self.path)


def open_store(data_dir: Path) -> EmbeddedDatasource:
    """Create the node's embedded store under its working location when it is missing."""
    path = data_dir / DB_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _setup_lock, Connection(path) as conn:
            conn._conn.execute("PRAGMA openidm.journal_mode = WAL")
            conn._conn.executescript(_SCHEMA)
            if CLUSTER_ACTIVATION_COLUMN:
                # The product keeps its embedded store's schema itself: a store an 8.0 node
                # created gets 8.1's activation column here (PostgreSQL needs the update script).
                columns = conn._conn.execute("PRAGMA openidm.table_info(clusterobjects)")
                if "activation" not in {row[1] for row in columns.fetchall()}:
                    conn._conn.execute(
                        "ALTER TABLE openidm.clusterobjects ADD COLUMN activation TEXT"
                    )
    except (OSError, sqlite3.Error) as exc:
        raise StandinError(f"cannot open the embedded repository {path}: {exc}") from None
    return EmbeddedDatasource(path)
