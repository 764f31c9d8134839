"""Configuration objects of the IDM stand-in (test double), and encrypted values.

Models what PingIDM does with its configuration in a cluster (contract rows C6 and C10):

- configuration lives in the repository (``openidm.configobjects``, object type ``config``,
  object ID = the PID); every ``conf/*.json`` file is the view of one object: ``sync.json`` is
  ``sync``, a factory configuration ``provisioner.openicf-ldap.json`` is
  ``provisioner.openicf/ldap`` (the first hyphen separates the factory from the instance, so
  ``schedule-nightly.json`` is ``schedule/nightly``);
- on start-up a node with ``openidm.fileinstall.enabled`` true (the default) loads its
  ``conf/*.json`` files into the repository; with it false, IDM "reads its configuration only from
  the repository", and the files are loaded only while the repository holds no configuration
  yet (``openidm.config.bootstrap.enabled``, default true);
- a PUT over REST (``/openidm/config/<pid>``) is stored in the repository and, with write-back on
  (``felix.fileinstall.enableConfigSave``, default true), written as ``conf/<file>.json`` on the
  node that received it; the other nodes read it from the repository;
- a file watcher polls ``conf/`` (``felix.fileinstall.poll`` ms, default 2000): a new or changed
  ``*.json`` is stored in the repository, and a removed one **deletes that configuration object
  from the repository** for the whole cluster;
- the first node stores an encrypted value (``{"$crypto": ...}``, key derived from its keystore's
  private key); every node decrypts every encrypted value of the configuration at start and at
  each check-in, and one whose keystore holds other key material is not ready.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from idm_standin import crypto
from idm_standin.config import Paths
from idm_standin.log import LOGGER
from idm_standin.repo import Datasource, RepoError, read_object

OBJECTTYPE = "config"
ENCRYPTED_ID = "standin.encrypted"  # the value every node must be able to decrypt
DATASOURCE = "datasource.jdbc-"  # the files whose password IDM encrypts on load (C5)
# A PID: a service name (no hyphen), and for a factory configuration "/" and an instance name.
PID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._]{0,200}(/[A-Za-z0-9][A-Za-z0-9._-]{0,200})?$")


def pid_of(file_name: str) -> str:
    """``sync.json`` is ``sync``, ``provisioner.openicf-ldap.json`` ``provisioner.openicf/ldap``."""
    stem = file_name[: -len(".json")]
    factory, dash, instance = stem.partition("-")
    return f"{factory}/{instance}" if dash else stem


def config_file(paths: Paths, pid: str) -> Path:
    """The ``conf/`` file of a PID (the inverse of :func:`pid_of`)."""
    return paths.conf / (pid.replace("/", "-", 1) + ".json")


def read(conn: psycopg.Connection, typeid: int, pid: str) -> dict[str, Any] | None:
    return read_object(conn, "configobjects", typeid, pid)


def store(conn: psycopg.Connection, typeid: int, pid: str, obj: dict[str, Any]) -> str:
    """Create or replace a configuration object; return its new revision."""
    document = {k: v for k, v in obj.items() if k not in ("_id", "_rev")}
    document["_id"] = pid
    row = conn.execute(
        "INSERT INTO openidm.configobjects (objecttypes_id, objectid, rev, fullobject)"
        " VALUES (%s, %s, '0', %s) ON CONFLICT (objecttypes_id, objectid) DO UPDATE SET"
        " fullobject = EXCLUDED.fullobject,"
        " rev = (openidm.configobjects.rev::bigint + 1)::text RETURNING rev",
        [typeid, pid, Jsonb(document)],
    ).fetchone()
    return str(row[0])


def delete(conn: psycopg.Connection, typeid: int, pid: str) -> dict[str, Any] | None:
    row = conn.execute(
        "DELETE FROM openidm.configobjects WHERE objecttypes_id = %s AND objectid = %s"
        " RETURNING fullobject",
        [typeid, pid],
    ).fetchone()
    return row[0] if row else None


def write_back(paths: Paths, pid: str, obj: dict[str, Any]) -> Path:
    """Write a configuration object to its ``conf/`` file (atomically)."""
    path = config_file(paths, pid)
    document = {k: v for k, v in obj.items() if k not in ("_id", "_rev")}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=4)
            handle.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _file_document(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _snapshot(paths: Paths) -> dict[str, float]:
    found = {}
    for path in paths.conf.glob("*.json"):
        if path.name.startswith(".") or not PID.match(pid_of(path.name)):
            continue
        try:
            found[path.name] = path.stat().st_mtime_ns
        except OSError:
            continue
    return found


def holds_configuration(conn: psycopg.Connection, typeid: int) -> bool:
    """Whether the repository holds configuration (other than the stand-in's encrypted value)."""
    row = conn.execute(
        "SELECT 1 FROM openidm.configobjects WHERE objecttypes_id = %s AND objectid <> %s LIMIT 1",
        [typeid, ENCRYPTED_ID],
    ).fetchone()
    return row is not None


def load_files(
    conn: psycopg.Connection, typeid: int, paths: Paths, fileinstall: bool
) -> dict[str, float]:
    """Start-up: store every ``conf/*.json`` in the repository; return the snapshot.

    Without fileinstall the files are only the bootstrap of an empty repository."""
    snapshot = _snapshot(paths)
    if not fileinstall and holds_configuration(conn, typeid):
        LOGGER.info("file-based configuration off: configuration read from the repository only")
        return snapshot
    for name in sorted(snapshot):
        document = _file_document(paths.conf / name)
        if document is not None:
            store(conn, typeid, pid_of(name), document)
    return snapshot


# encrypted values ------------------------------------------------------------------------------
def _encrypted_values(value: Any, where: str):
    if crypto.is_encrypted(value):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _encrypted_values(item, f"{where}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _encrypted_values(item, f"{where}/{index}")


def seed_encrypted(
    conn: psycopg.Connection, typeid: int, key: bytes, alias: str, node_id: str
) -> None:
    """The first node to reach the repository stores an encrypted value in it."""
    document = {
        "_id": ENCRYPTED_ID,
        "recordedBy": node_id,
        "secret": crypto.encrypt(os.urandom(16).hex(), key, alias),
    }
    conn.execute(
        "INSERT INTO openidm.configobjects (objecttypes_id, objectid, rev, fullobject)"
        " VALUES (%s, %s, '0', %s) ON CONFLICT (objecttypes_id, objectid) DO NOTHING",
        [typeid, ENCRYPTED_ID, Jsonb(document)],
    )


def decryption_problem(conn: psycopg.Connection, typeid: int, key: bytes) -> str | None:
    """Try to decrypt every encrypted value of the stored configuration; describe a failure."""
    rows = conn.execute(
        "SELECT objectid, fullobject FROM openidm.configobjects WHERE objecttypes_id = %s"
        " AND fullobject::text LIKE '%%$crypto%%' ORDER BY objectid",
        [typeid],
    ).fetchall()
    for objectid, document in rows:
        for where, value in _encrypted_values(document, ""):
            try:
                crypto.decrypt(value, key)
            except crypto.CryptoError as exc:
                recorded = document.get("recordedBy") if isinstance(document, dict) else None
                by = f" (encrypted by node {recorded})" if recorded else ""
                return f"cannot decrypt configuration {objectid} field {where or '/'}{by}: {exc}"
    return None


# file watcher ----------------------------------------------------------------------------------
class FileWatcher(threading.Thread):
    """Poll ``conf/`` for ``*.json`` changes, like Felix FileInstall in IDM."""

    def __init__(
        self,
        paths: Paths,
        ds: Datasource,
        typeid: int,
        snapshot: dict[str, float],
        interval_s: float,
        stop_event: threading.Event,
        node_id: str,
        protect: Callable[[str], dict[str, Any] | None] | None = None,
    ):
        super().__init__(name="fileinstall", daemon=True)
        # A changed file whose secrets IDM encrypts on load (the datasource, C5): name -> the
        # document to store, with them encrypted.
        self.protect = protect
        self.paths = paths
        self.ds = ds
        self.typeid = typeid
        self.snapshot = dict(snapshot)
        self.interval = max(0.1, interval_s)
        self.stop_event = stop_event
        self.node_id = node_id
        self._conn: psycopg.Connection | None = None

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = self.ds.connect(f"idm-standin {self.node_id} fileinstall")
        return self._conn

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            current = _snapshot(self.paths)
            try:
                self._apply(current)
            except (psycopg.Error, RepoError) as exc:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
                LOGGER.error("conf/ change not applied (repository unavailable): %s", exc)
                continue  # retried at the next poll: the snapshot is not advanced
            self.snapshot = current

    def _apply(self, current: dict[str, float]) -> None:
        for name in sorted(set(self.snapshot) - set(current)):
            pid = pid_of(name)
            if delete(self._connection(), self.typeid, pid) is not None:
                LOGGER.info(
                    "conf/%s was removed: configuration %s deleted from the repository", name, pid
                )
        for name in sorted(current):
            if self.snapshot.get(name) == current[name]:
                continue
            document = _file_document(self.paths.conf / name)
            if document is not None and self.protect is not None and name.startswith(DATASOURCE):
                document = self.protect(name)
            if document is None:
                LOGGER.error("conf/%s is not a valid JSON object: not loaded", name)
                continue
            pid = pid_of(name)
            if read(self._connection(), self.typeid, pid) != dict(document, _id=pid):
                store(self._connection(), self.typeid, pid, document)
                LOGGER.info("conf/%s loaded: configuration %s stored", name, pid)
