"""Scheduler of the IDM stand-in (test double).

Reads ``conf/schedule-*.json`` (``enabled``, ``persisted``, ``type`` simple/cron,
``repeatInterval``, ``schedule``, ``invokeService``, ``invokeContext``, ``invokeLogLevel``) and
fires them like PingIDM does in a cluster: a persisted schedule fires once per trigger across the
cluster, on a node with ``executePersistentSchedules`` true that is not in standby; a
non-persisted schedule fires on every active node. Simple schedules fire at epoch multiples of
``repeatInterval`` so every node computes the same triggers. Each execution is a row in the test
double's own table ``openidm.standin_schedule_runs``; the unique index on (schedule, fire_time)
for persisted rows is what lets only one node claim a trigger.
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from idm_standin.config import Paths
from idm_standin.cron import UTC, CronError, CronExpression
from idm_standin.log import LOGGER
from idm_standin.props import Properties, PropertyError, resolve, to_bool, to_int
from idm_standin.repo import Datasource, RepoError
from idm_standin.state import NodeState


@dataclass(frozen=True)
class Schedule:
    name: str
    persisted: bool
    interval_ms: int | None
    cron: CronExpression | None
    script_file: str | None
    log_level: str

    def next_fire_ms(self, after_ms: int) -> int:
        """The first trigger strictly after ``after_ms``."""
        if self.interval_ms is not None:
            return (after_ms // self.interval_ms + 1) * self.interval_ms
        moment = datetime.datetime.fromtimestamp(after_ms / 1000.0, UTC)
        return int(self.cron.next_after(moment).timestamp() * 1000)


def _parse_schedule(name: str, doc: dict) -> Schedule | None:
    where = f"conf/schedule-{name}.json"
    if not to_bool(doc.get("enabled", True), f"{where} enabled"):
        LOGGER.info("schedule %s is disabled", name)
        return None
    kind = str(doc.get("type") or "cron").lower()
    interval = cron = None
    if kind == "simple":
        interval = to_int(doc.get("repeatInterval"), f"{where} repeatInterval")
        if interval <= 0:
            raise PropertyError(f"{where} repeatInterval must be positive")
    elif kind == "cron":
        cron = CronExpression(str(doc.get("schedule") or ""))
        zone = doc.get("timeZone")
        if zone and str(zone).upper() not in ("UTC", "GMT", "Z"):
            LOGGER.warning("schedule %s: timeZone %s ignored, evaluated in UTC", name, zone)
    else:
        raise PropertyError(f"{where} type {kind!r} is neither simple nor cron")
    context = doc.get("invokeContext") or {}
    script = context.get("script") if isinstance(context, dict) else None
    script_file = script.get("file") if isinstance(script, dict) else None
    return Schedule(
        name=name,
        persisted=to_bool(doc.get("persisted", False), f"{where} persisted"),
        interval_ms=interval,
        cron=cron,
        script_file=str(script_file) if script_file else None,
        log_level=str(doc.get("invokeLogLevel") or "info").lower(),
    )


def load_schedules(paths: Paths, props: Properties) -> list[Schedule]:
    """Schedules of ``conf/schedule-*.json``; a bad one is logged and skipped, like IDM does."""
    schedules = []
    for path in sorted(paths.conf.glob("schedule-*.json")):
        name = path.name[len("schedule-") : -len(".json")]
        try:
            doc = resolve(json.loads(path.read_text(encoding="utf-8")), props, f"conf/{path.name}")
            schedule = _parse_schedule(name, doc)
        except (OSError, ValueError, PropertyError, CronError, AttributeError) as exc:
            LOGGER.error("schedule %s not created: %s", name, exc)
            continue
        if schedule:
            if not schedule.persisted:
                LOGGER.warning(
                    "schedule %s is not persisted: non-persisted schedules are deprecated and "
                    "run on every node of the cluster",
                    name,
                )
            schedules.append(schedule)
    return schedules


class Scheduler(threading.Thread):
    def __init__(
        self,
        node: NodeState,
        paths: Paths,
        schedules: list[Schedule],
        execute_persistent: bool,
        ds: Datasource,
    ):
        super().__init__(name="scheduler", daemon=True)
        self.node = node
        self.paths = paths
        self.schedules = schedules
        self.execute_persistent = execute_persistent
        self.ds = ds
        self._conn: psycopg.Connection | None = None

    def run(self) -> None:
        if not self.schedules:
            return
        while not self.node.active_event.wait(0.2):
            if self.node.stop_event.is_set():
                return
        now = int(time.time() * 1000)
        pending = {s.name: s.next_fire_ms(now) for s in self.schedules}
        by_name = {s.name: s for s in self.schedules}
        while not self.node.stop_event.is_set():
            due = min(pending.values())
            delay = (due - time.time() * 1000) / 1000.0
            if delay > 0 and self.node.stop_event.wait(min(delay, 1.0)):
                return
            now = int(time.time() * 1000)
            for name, fire_ms in sorted(pending.items(), key=lambda item: item[1]):
                if fire_ms <= now:
                    self._fire(by_name[name], fire_ms)
                    # A node that fell far behind does not replay every missed trigger.
                    pending[name] = by_name[name].next_fire_ms(max(fire_ms, now - 1000))

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = self.ds.connect(f"idm-standin {self.node.node_id} scheduler")
        return self._conn

    def _script_outcome(self, schedule: Schedule) -> str:
        if not schedule.script_file:
            return "ok"
        relative = Path(schedule.script_file)
        candidates = (
            [relative]
            if relative.is_absolute()
            else [
                self.paths.instance / relative,
                self.paths.instance / "script" / relative,
                self.paths.install / relative,
                self.paths.install / "script" / relative,
            ]
        )
        if any(c.is_file() for c in candidates):
            return "ok"
        return f"failed: script {schedule.script_file} not found on this node"

    def _fire(self, schedule: Schedule, fire_ms: int) -> None:
        if not self.node.runs_schedules:
            return
        if schedule.persisted and not self.execute_persistent:
            return
        outcome = self._script_outcome(schedule)
        fire_time = datetime.datetime.fromtimestamp(fire_ms / 1000.0, UTC)
        try:
            row = (
                self._connection()
                .execute(
                    "INSERT INTO openidm.standin_schedule_runs"
                    " (schedule, fire_time, node_id, persisted, outcome)"
                    " VALUES (%s, %s, %s, %s, %s)"
                    " ON CONFLICT (schedule, fire_time) WHERE persisted DO NOTHING RETURNING id",
                    [schedule.name, fire_time, self.node.node_id, schedule.persisted, outcome],
                )
                .fetchone()
            )
        except (psycopg.Error, RepoError) as exc:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            LOGGER.error("schedule %s trigger %s not run: %s", schedule.name, fire_time, exc)
            return
        if row is None:
            return  # another node claimed this persisted trigger
        stamp = fire_time.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        kind = "persisted" if schedule.persisted else "in-memory"
        if outcome != "ok":
            LOGGER.error("schedule %s (%s) trigger %s %s", schedule.name, kind, stamp, outcome)
        elif schedule.log_level in ("info", "warn", "warning", "error"):
            LOGGER.info("schedule %s (%s) fired for trigger %s", schedule.name, kind, stamp)
