"""Cluster manager of the IDM stand-in (test double).

Models PingIDM's cluster manager from ``conf/cluster.json``: every node writes a check-in row to
``openidm.clusterobjects`` (object type ``cluster/states``) each ``instanceCheckInInterval`` ms,
after ``instanceCheckInOffset`` ms for the first. Nodes with ``enabled: true`` watch the others:
a ``running`` node whose last check-in is older than ``instanceTimeout`` becomes
``processing-down``, and after ``instanceRecoveryTimeout`` in that state ``down``; every state
change is a conditional update on the row's revision, so two watchers cannot both apply it. Nodes
with ``enabled: false`` still check in but detect nothing. The state is what is stored; reads do
not compute it. All times come from the repository's clock. From 8.1.0 on (the test double's
invented schema change) the row's column ``activation`` is written too, so on a repository still
on the 8.0 schema every check-in fails and the node is never ready.
"""

from __future__ import annotations

import datetime
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from idm_standin import CLUSTER_ACTIVATION_COLUMN, PRODUCT_VERSION
from idm_standin.config import ClusterConfig
from idm_standin.log import LOGGER
from idm_standin.repo import Datasource, RepoError, db_now_ms, read_object
from idm_standin.state import NodeState

OBJECTTYPE = "cluster/states"
_UTC = datetime.UTC


def iso(ms: int | float) -> str:
    moment = datetime.datetime.fromtimestamp(ms / 1000.0, _UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def describe_error(ds: Datasource, exc: Exception) -> str:
    if isinstance(exc, RepoError):
        return str(exc)
    if isinstance(exc, psycopg.OperationalError):
        return ds.explain(exc)
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


# Where a node in recovery shows (contract row C9, uncertain): "state" = as the top-level state
# processing-down (default); "recovery" = as in older versions, the top-level state stays running
# until the node is down and the recovery object carries "state": "processing-down".
C9_VARIANTS = ("state", "recovery")
c9_variant = "state"


def api_view(obj: dict[str, Any]) -> dict[str, Any]:
    """The /openidm/cluster representation of a stored state object."""
    state = obj.get("state")
    view = {
        "_id": obj.get("instanceId"),
        "instanceId": obj.get("instanceId"),
        "state": state,
        "startup": obj.get("startup", ""),
        "shutdown": obj.get("shutdown", ""),
    }
    if obj.get("recovery"):
        view["recovery"] = dict(obj["recovery"])
        if c9_variant == "recovery":
            view["recovery"]["state"] = (
                "processing-down"
                if state == "processing-down"
                else ("recovered" if state == "down" else state)
            )
            if state == "processing-down":
                view["state"] = "running"
    if "activation" in obj:
        view["activation"] = obj["activation"]
    return view


def list_states(conn: psycopg.Connection, typeid: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT fullobject FROM openidm.clusterobjects WHERE objecttypes_id = %s ORDER BY objectid",
        [typeid],
    ).fetchall()
    return [row[0] for row in rows]


def read_state(conn: psycopg.Connection, typeid: int, instance_id: str) -> dict[str, Any] | None:
    return read_object(conn, "clusterobjects", typeid, instance_id)


class ClusterManager(threading.Thread):
    def __init__(
        self,
        node: NodeState,
        cfg: ClusterConfig,
        ds: Datasource,
        typeid: int,
        identity: dict[str, Any],
        key_check: Callable[[psycopg.Connection], str | None],
    ):
        super().__init__(name="cluster-manager", daemon=True)
        self.node = node
        self.cfg = cfg
        self.ds = ds
        self.typeid = typeid
        self.identity = identity  # static fields of this node's state object
        self.key_check = key_check  # describes an encrypted value this node cannot decrypt
        self.startup_ms = int(time.time() * 1000)
        self._conn: psycopg.Connection | None = None
        self._halt = threading.Event()
        self._lock = threading.Lock()  # one cycle at a time; the final write waits for it

    def run(self) -> None:
        if self._halt.wait(self.cfg.checkin_offset_ms / 1000.0):
            return
        while not self._halt.is_set():
            self.cycle()
            self._halt.wait(self.cfg.checkin_interval_ms / 1000.0)

    def halt(self) -> None:
        self._halt.set()

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = self.ds.connect(f"idm-standin {self.node.node_id} cluster")
        return self._conn

    def _state_object(self, state: str, now_ms: int, shutdown: str = "") -> dict[str, Any]:
        obj = dict(self.identity)
        obj.update(
            instanceId=self.cfg.instance_id,
            state=state,
            startup=iso(self.startup_ms),
            shutdown=shutdown,
            timestamp=now_ms,
            productVersion=PRODUCT_VERSION,
            pid=os.getpid(),
        )
        if self.node.active_passive:
            obj["activation"] = self.node.activation
        return obj

    def _write_own(self, conn: psycopg.Connection, obj: dict[str, Any]) -> None:
        if not CLUSTER_ACTIVATION_COLUMN:  # 8.0: the schema has no activation column
            conn.execute(
                "INSERT INTO openidm.clusterobjects (objecttypes_id, objectid, rev, fullobject)"
                " VALUES (%s, %s, '0', %s) ON CONFLICT (objecttypes_id, objectid) DO UPDATE SET"
                " fullobject = EXCLUDED.fullobject,"
                " rev = (openidm.clusterobjects.rev::bigint + 1)::text",
                [self.typeid, self.cfg.instance_id, Jsonb(obj)],
            )
            return
        # 8.1 (the test double's invented schema change): the row's activation column holds the
        # node's activation state, NULL without active/passive clustering. On a repository still
        # on the 8.0 schema this fails with PostgreSQL's 'column "activation" ... does not exist',
        # so every check-in fails and the node is never ready (cycle()).
        activation = self.node.activation if self.node.active_passive else None
        conn.execute(
            "INSERT INTO openidm.clusterobjects"
            " (objecttypes_id, objectid, rev, fullobject, activation)"
            " VALUES (%s, %s, '0', %s, %s) ON CONFLICT (objecttypes_id, objectid) DO UPDATE SET"
            " fullobject = EXCLUDED.fullobject, activation = EXCLUDED.activation,"
            " rev = (openidm.clusterobjects.rev::bigint + 1)::text",
            [self.typeid, self.cfg.instance_id, Jsonb(obj), activation],
        )

    def cycle(self) -> None:
        with self._lock:
            if self._halt.is_set() and self.node.phase == "STOPPING":
                return
            try:
                self._check_in()
            except (psycopg.Error, RepoError) as exc:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
                problem = describe_error(self.ds, exc)
                if self.node.checkin_failed(f"repository check-in failed: {problem}"):
                    LOGGER.error("cluster check-in failed, node is not ready: %s", problem)
            finally:
                self.node.first_checkin.set()

    def _check_in(self) -> None:
        conn = self._connection()
        now_ms = db_now_ms(conn)
        self._write_own(conn, self._state_object("running", now_ms))
        LOGGER.debug("cluster check-in of %s stored", self.cfg.instance_id)
        self.verify_keys(conn)  # before readiness can flip to ready
        if self.node.checkin_succeeded():
            LOGGER.info("cluster check-in to %s works again", self.ds.describe())
        if self.cfg.enabled:
            self._detect(conn, now_ms)

    def verify_keys(self, conn: psycopg.Connection) -> None:
        problem = self.key_check(conn)
        if self.node.set_key_problem(problem):
            if problem:
                LOGGER.error("node is not ready: %s", problem)
            else:
                LOGGER.info("the encrypted configuration values decrypt with this keystore")

    def _update_if(self, conn: psycopg.Connection, instance_id: str, rev: str, obj: dict) -> bool:
        cursor = conn.execute(
            "UPDATE openidm.clusterobjects SET fullobject = %s, rev = (rev::bigint + 1)::text"
            " WHERE objecttypes_id = %s AND objectid = %s AND rev = %s",
            [Jsonb(obj), self.typeid, instance_id, rev],
        )
        return cursor.rowcount == 1

    def _detect(self, conn: psycopg.Connection, now_ms: int) -> None:
        rows = conn.execute(
            "SELECT objectid, rev, fullobject FROM openidm.clusterobjects"
            " WHERE objecttypes_id = %s AND objectid <> %s",
            [self.typeid, self.cfg.instance_id],
        ).fetchall()
        me = self.cfg.instance_id
        for instance_id, rev, obj in rows:
            state = obj.get("state")
            last = int(obj.get("timestamp") or 0)
            if state == "running" and now_ms - last > self.cfg.instance_timeout_ms:
                obj["state"] = "processing-down"
                obj["recovery"] = {
                    "recoveringInstanceId": me,
                    "recoveringTimestamp": now_ms,
                    "recoveryStarted": iso(now_ms),
                    "lastCheckIn": iso(last),
                }
                if self._update_if(conn, instance_id, rev, obj):
                    LOGGER.warning(
                        "instance %s missed its check-ins for %d ms (instanceTimeout %d ms): "
                        "marked processing-down",
                        instance_id,
                        now_ms - last,
                        self.cfg.instance_timeout_ms,
                    )
            elif state == "processing-down":
                recovery = obj.get("recovery") or {}
                since = int(recovery.get("recoveringTimestamp") or now_ms)
                if now_ms - since > self.cfg.recovery_timeout_ms:
                    obj["state"] = "down"
                    obj["shutdown"] = iso(now_ms)
                    recovery.update(recoveryFinished=iso(now_ms), recoveryFinishedTimestamp=now_ms)
                    recovery["recoveryFinishedBy"] = me
                    obj["recovery"] = recovery
                    if self._update_if(conn, instance_id, rev, obj):
                        LOGGER.warning(
                            "instance %s stayed in recovery for %d ms "
                            "(instanceRecoveryTimeout %d ms): marked down",
                            instance_id,
                            now_ms - since,
                            self.cfg.recovery_timeout_ms,
                        )

    def mark_down(self) -> None:
        """Clean shutdown: store this node as ``down`` with a shutdown timestamp."""
        self.halt()
        with self._lock:
            try:
                conn = self._connection()
                now_ms = db_now_ms(conn)
                self._write_own(conn, self._state_object("down", now_ms, shutdown=iso(now_ms)))
                LOGGER.info("cluster state of %s set to down", self.cfg.instance_id)
            except (psycopg.Error, RepoError) as exc:
                LOGGER.error("could not store the down state at shutdown: %s", exc)
            finally:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
