"""PostgreSQL repository access of the IDM stand-in (test double).

Reads ``conf/repo.jdbc.json`` and ``conf/datasource.jdbc-<name>.json`` like PingIDM, connects with
psycopg 3, and fails with a clear message when the repository is unreachable, refuses the
credentials, or lacks the schema created by ``db/postgresql/scripts/openidm.pgsql``.
"""

from __future__ import annotations

import json
import os
import re
import stat
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from idm_standin import StandinError
from idm_standin.config import Paths, read_conf
from idm_standin.log import LOGGER
from idm_standin.props import Properties, PropertyError

# Tables the stand-in uses; configobjects is the one the collection probes for the schema.
REQUIRED_TABLES = (
    "configobjects",
    "objecttypes",
    "clusterobjects",
    "securitykeys",
    "internaluser",
    "standin_schedule_runs",
)
# PgJDBC's sslmode values; its default (no sslmode, no ssl) is prefer; ssl=true alone: verify-full.
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# PgJDBC's targetServerType and the libpq target_session_attrs (14 and later) standing in for it.
# libpq has no prefer-primary: preferPrimary stands in as any (weaker than PgJDBC).
TARGET_SERVER_TYPES = {
    "any": "any",
    "primary": "primary",
    "master": "primary",
    "secondary": "standby",
    "slave": "standby",
    "preferSecondary": "prefer-standby",
    "preferSlave": "prefer-standby",
    "preferPrimary": "any",
}
_JDBC = re.compile(r"^jdbc:postgresql://(?P<hosts>[^/?]*)(?:/(?P<db>[^?]*))?(?:\?(?P<params>.*))?$")


class RepoError(StandinError):
    """The repository cannot be used."""


@dataclass(frozen=True)
class Datasource:
    file: str
    hosts: tuple[tuple[str, int], ...]
    dbname: str
    user: str
    password: str
    connect_timeout: int
    sslmode: str | None
    sslrootcert: str | None = None
    target_session_attrs: str | None = None

    def describe(self) -> str:
        hosts = ",".join(f"{h}:{p}" for h, p in self.hosts)
        return f"{hosts}/{self.dbname}"

    def connect(self, application_name: str) -> psycopg.Connection:
        kwargs = {
            "host": ",".join(h for h, _ in self.hosts),
            "port": ",".join(str(p) for _, p in self.hosts),
            "dbname": self.dbname,
            "user": self.user,
            "password": self.password,
            "connect_timeout": self.connect_timeout,
            "application_name": application_name[:63],
            "autocommit": True,
        }
        if self.sslmode:
            kwargs["sslmode"] = self.sslmode
        # PgJDBC checks the server certificate in verify-ca and verify-full only (require does not,
        # where libpq with a root certificate would): sslrootcert is handed on for those alone.
        # Without it both drivers read ~/.postgresql/root.crt.
        if self.sslrootcert and self.sslmode in ("verify-ca", "verify-full"):
            kwargs["sslrootcert"] = self.sslrootcert
        if self.target_session_attrs:
            kwargs["target_session_attrs"] = self.target_session_attrs
        try:
            return psycopg.connect(**kwargs)
        except psycopg.OperationalError as exc:
            raise RepoError(self.explain(exc)) from None

    def explain(self, exc: Exception) -> str:
        text = " ".join(str(exc).split())
        low = text.lower()
        where = f"the repository {self.describe()} (conf/{self.file})"
        if "password authentication failed" in low or "no password supplied" in low:
            return (
                f"authentication to {where} failed for user {self.user}: check username and "
                f"password in conf/{self.file} ({text})"
            )
        if "database" in low and "does not exist" in low:
            return (
                f"database {self.dbname} does not exist on {where}: create it with "
                f"db/postgresql/scripts/createuser.pgsql ({text})"
            )
        if "role" in low and "does not exist" in low:
            return f"user {self.user} does not exist on {where} ({text})"
        tls = f"sslmode={self.sslmode}, sslrootcert={self.sslrootcert or '~/.postgresql/root.crt'}"
        if "does not match host name" in low:
            return (
                f"SSL error: the server certificate of {where} does not name the host it was "
                f"reached by ({tls}): use a host name of the certificate in jdbcUrl ({text})"
            )
        if "certificate verify failed" in low:
            return (
                f"SSL error: the server certificate of {where} is not signed by a CA of "
                f"sslrootcert ({tls}) ({text})"
            )
        if "root certificate file" in low or "could not read root certificate" in low:
            return f"SSL error: cannot read the root certificate file ({tls}) for {where} ({text})"
        if "server does not support ssl" in low:
            return f"SSL error: {where} does not support SSL but {tls} requires it ({text})"
        if "no encryption" in low and "pg_hba.conf" in low:
            return f"{where} refuses a connection without SSL ({tls}): set sslmode ({text})"
        return f"{where} is unreachable: {text}"


def select_repository(paths: Paths) -> str:
    """``"embedded"`` or ``"jdbc"``: which repository configuration of ``conf/`` is in use.

    Like PingIDM: ``conf/repo.ds.json`` (the shipped default) selects the embedded DS, whether or
    not ``conf/repo.jdbc.json`` is there as well (the documented procedure removes repo.ds.json
    to use PostgreSQL); without repo.ds.json, ``conf/repo.jdbc.json`` selects PostgreSQL.
    """
    if (paths.conf / "repo.ds.json").is_file():
        if (paths.conf / "repo.jdbc.json").is_file():
            LOGGER.info(
                "conf/repo.ds.json and conf/repo.jdbc.json are both present: the embedded DS "
                "repository of repo.ds.json is used, PostgreSQL is not"
            )
        return "embedded"
    if (paths.conf / "repo.jdbc.json").is_file():
        return "jdbc"
    raise StandinError(
        "no repository configuration: conf/ holds neither repo.ds.json (embedded DS) nor "
        "repo.jdbc.json (copy it with datasource.jdbc-default.json from db/postgresql/conf/)"
    )


def load_repository(paths: Paths, props: Properties, private_key: object, alias: str):
    """The datasource of the repository in use (embedded or PostgreSQL)."""
    if select_repository(paths) == "embedded":
        from idm_standin import embedded

        read_conf(paths.conf / "repo.ds.json", props)  # must be valid JSON
        return embedded.open_store(paths.data)
    return load_datasource(paths, props, private_key, alias)


def _password(
    paths: Paths, props: Properties, file: str, resolved: object, private_key: object, alias: str
) -> str:
    """C5: the datasource password in plaintext; a plaintext one in the file is encrypted and,
    with write-back on (felix.fileinstall.enableConfigSave, default true), written back."""
    from idm_standin import crypto

    path = paths.conf / file
    raw = json.loads(path.read_text(encoding="utf-8"))
    value = raw.get("password")
    if private_key is None:  # no keystore given (unit use): the value as it is
        return value if isinstance(value, str) else ""
    key = crypto.key_from_private_key(private_key)
    if crypto.is_encrypted(value):
        try:
            return crypto.decrypt(value, key)
        except crypto.CryptoError as exc:
            raise StandinError(f"conf/{file} password: {exc}") from None
    if not isinstance(value, str) or "&{" in value:
        # A property expression is resolved at every start, never encrypted or written back.
        return "" if resolved is None else str(resolved)
    try:
        write_back = props.get_bool("felix.fileinstall.enableConfigSave", True)
    except PropertyError as exc:
        raise StandinError(str(exc)) from exc
    if write_back:
        raw["password"] = crypto.encrypt(value, key, alias)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
            temporary.write_text(json.dumps(raw, indent=4) + "\n", encoding="utf-8")
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise StandinError(f"cannot write the encrypted password to {path}: {exc}") from exc
        LOGGER.info("encrypted the password of conf/%s and wrote the file back", file)
    return value


def protect_datasource(
    paths: Paths, props: Properties, file: str, private_key: object, alias: str
) -> dict[str, Any] | None:
    """C5 on a running node: a datasource file written with a plaintext password is loaded with
    the password encrypted (written back with felix.fileinstall.enableConfigSave), so the
    configuration stored in the repository never holds it in plaintext. The document to store."""
    from idm_standin import crypto

    _password(paths, props, file, None, private_key, alias)  # encrypts and writes back, if on
    document = json.loads((paths.conf / file).read_text(encoding="utf-8"))
    value = document.get("password") if isinstance(document, dict) else None
    if isinstance(value, str) and value and "&{" not in value:  # write-back off: the file keeps it
        key = crypto.key_from_private_key(private_key)
        document = dict(document, password=crypto.encrypt(value, key, alias))
    return document if isinstance(document, dict) else None


def load_datasource(
    paths: Paths, props: Properties, private_key: object = None, alias: str = "openidm-localhost"
) -> Datasource:
    repo_doc = read_conf(paths.conf / "repo.jdbc.json", props, required=False) or {}
    db_type = str(repo_doc.get("dbType") or "POSTGRESQL").upper()
    if db_type != "POSTGRESQL":
        raise StandinError(
            f"conf/repo.jdbc.json dbType {db_type}: the IDM stand-in (test double) models a "
            "PostgreSQL repository only"
        )
    name = str(repo_doc.get("useDataSource") or "default")
    file = f"datasource.jdbc-{name}.json"
    doc = read_conf(paths.conf / file, props)
    driver = doc.get("driverClass")
    if driver != "org.postgresql.Driver":
        raise StandinError(f"conf/{file} driverClass {driver!r}: expected org.postgresql.Driver")
    url = str(doc.get("jdbcUrl") or "")
    match = _JDBC.match(url)
    if not match or not match.group("hosts"):
        raise StandinError(
            f"conf/{file} jdbcUrl {url!r} is not of the form jdbc:postgresql://host:port/database"
        )
    hosts = []
    for part in match.group("hosts").split(","):
        host, _, port = part.rpartition(":") if ":" in part else (part, "", "5432")
        try:
            hosts.append((host.strip("[]"), int(port)))
        except ValueError:
            raise StandinError(f"conf/{file} jdbcUrl {url!r} has a bad port {port!r}") from None
    params = {
        urllib.parse.unquote(k): urllib.parse.unquote(v)
        for k, v in (p.split("=", 1) for p in (match.group("params") or "").split("&") if "=" in p)
    }
    dbname = match.group("db") or str(doc.get("databaseName") or "")
    if not dbname:
        raise StandinError(f"conf/{file} names no database")
    try:
        timeout_ms = int(doc.get("connectionTimeout", 30000))
    except (TypeError, ValueError):
        raise StandinError(f"conf/{file} connectionTimeout must be a number") from None
    user = str(doc.get("username") or params.get("user") or "")
    password = ""
    if "password" in doc:
        password = _password(paths, props, file, doc["password"], private_key, alias)
    password = password or str(params.get("password") or "")
    sslmode = params.get("sslmode")
    if sslmode is None and "ssl" in params:
        sslmode = "prefer" if params["ssl"].lower() == "false" else "verify-full"
    if sslmode is not None and sslmode not in SSL_MODES:
        raise StandinError(f"conf/{file} jdbcUrl: Invalid sslmode value: {sslmode}")
    target = params.get("targetServerType")
    if target is not None and target not in TARGET_SERVER_TYPES:
        raise StandinError(f"conf/{file} jdbcUrl: Invalid targetServerType value: {target}")
    return Datasource(
        file=file,
        hosts=tuple(hosts),
        dbname=dbname,
        user=user,
        password=password,
        # Capped low: a deployment test must not wait 30 s for a repository that is not there.
        connect_timeout=max(1, min(5, (timeout_ms + 999) // 1000)),
        sslmode=sslmode,
        sslrootcert=params.get("sslrootcert"),
        target_session_attrs=TARGET_SERVER_TYPES.get(target) if target else None,
    )


def check_schema(conn: psycopg.Connection, ds: Datasource) -> None:
    rows = conn.execute(
        "SELECT c.relname, has_table_privilege(c.oid, 'SELECT')"
        " AND has_table_privilege(c.oid, 'INSERT') AND has_table_privilege(c.oid, 'UPDATE')"
        " AND has_table_privilege(c.oid, 'DELETE')"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'openidm' AND c.relkind IN ('r', 'p') AND c.relname = ANY(%s)",
        [list(REQUIRED_TABLES)],
    ).fetchall()
    found = {name: allowed for name, allowed in rows}
    if "configobjects" not in found:
        raise RepoError(
            f"the repository {ds.describe()} has no IDM schema (table openidm.configobjects is "
            "missing): run db/postgresql/scripts/openidm.pgsql once against it, then start IDM"
        )
    missing = [t for t in REQUIRED_TABLES if t not in found]
    if missing:
        raise RepoError(
            f"the repository {ds.describe()} has an incomplete IDM schema (missing "
            + ", ".join(f"openidm.{t}" for t in missing)
            + "): it was not created by this distribution's db/postgresql/scripts/openidm.pgsql"
        )
    denied = [t for t in REQUIRED_TABLES if not found[t]]
    if denied:
        raise RepoError(
            f"user {ds.user} lacks SELECT/INSERT/UPDATE/DELETE on "
            + ", ".join(f"openidm.{t}" for t in denied)
            + f" in {ds.describe()}: run openidm.pgsql as the repository user"
        )


def objecttype_id(conn: psycopg.Connection, objecttype: str) -> int:
    conn.execute(
        "INSERT INTO openidm.objecttypes (objecttype) VALUES (%s) ON CONFLICT DO NOTHING",
        [objecttype],
    )
    row = conn.execute(
        "SELECT id FROM openidm.objecttypes WHERE objecttype = %s", [objecttype]
    ).fetchone()
    return int(row[0])


def db_now_ms(conn: psycopg.Connection) -> int:
    """The repository's clock in epoch milliseconds: one clock for every node's check-ins."""
    row = conn.execute("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint").fetchone()
    return int(row[0])


def read_object(
    conn: psycopg.Connection, table: str, typeid: int, objectid: str
) -> dict[str, Any] | None:
    """``fullobject`` of one row of a generic object table (configobjects, clusterobjects)."""
    query = sql.SQL(
        "SELECT fullobject FROM openidm.{} WHERE objecttypes_id = %s AND objectid = %s"
    ).format(sql.Identifier(table))
    row = conn.execute(query, [typeid, objectid]).fetchone()
    return row[0] if row else None


class Pool:
    """A small pool of autocommit connections for request threads."""

    def __init__(self, ds: Datasource, application_name: str, size: int = 4):
        self._ds = ds
        self._name = application_name
        self._size = size
        self._idle: list[psycopg.Connection] = []
        self._lock = threading.Lock()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._ds.connect(self._name)
        try:
            yield conn
        finally:
            self._release(conn)

    def _release(self, conn: psycopg.Connection) -> None:
        if conn.closed or conn.broken:
            conn.close()
            return
        with self._lock:
            if len(self._idle) < self._size:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
