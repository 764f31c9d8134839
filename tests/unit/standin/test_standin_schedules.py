"""Schedules of the IDM stand-in (test double): persisted ones fire once per trigger across the
cluster, in-memory ones on every node; standby nodes and nodes with
executePersistentSchedules=false do what PingIDM 8.1 does."""

from __future__ import annotations

import time
from collections import defaultdict

from standin_harness import wait_for

SCHEDULES = {
    "schedule-persisted-simple.json": {
        "enabled": True,
        "persisted": True,
        "type": "simple",
        "repeatInterval": 300,
        "invokeService": "script",
        "invokeContext": {"script": {"type": "text/javascript", "source": "1"}},
    },
    "schedule-persisted-cron.json": {
        "enabled": True,
        "persisted": True,
        "type": "cron",
        "schedule": "* * * * * ?",
        "invokeService": "script",
        "invokeContext": {"script": {"type": "text/javascript", "source": "1"}},
    },
    "schedule-local.json": {
        "enabled": True,
        "persisted": False,
        "type": "simple",
        "repeatInterval": 400,
        "invokeService": "script",
        "invokeContext": {"script": {"type": "text/javascript", "file": "script/cleanup.js"}},
    },
    "schedule-off.json": {"enabled": False, "type": "simple", "repeatInterval": 100},
    "schedule-broken.json": {"enabled": True, "type": "cron", "schedule": "0 * * * * *"},
}


def _runs(pg, dbname, since_ms: int):
    return pg.query(
        dbname,
        "SELECT schedule, (extract(epoch FROM fire_time) * 1000)::bigint, node_id, persisted,"
        " outcome FROM openidm.standin_schedule_runs"
        " WHERE fire_time >= to_timestamp(%s / 1000.0) ORDER BY fire_time",
        [since_ms],
    )


def test_c14_persisted_schedules_run_on_one_node_per_trigger(make_node, repo_db, pg):
    standby_flags = {
        "org.forgerock.feature.cluster.active.passive": "true",
        "org.forgerock.feature.cluster.improved": "true",
    }
    a = make_node("a", repo_db)
    b = make_node("b", repo_db)
    no_persisted = make_node(
        "no-persisted", repo_db, boot={"openidm.scheduler.execute.persistent.schedules": "false"}
    )
    standby = make_node("standby", repo_db, boot=standby_flags)
    nodes = (a, b, no_persisted, standby)
    for node in nodes:
        for name, document in SCHEDULES.items():
            node.write_conf(name, document)
    # Scripts are not replicated by IDM: only node a got the script file.
    (a.home / "script" / "cleanup.js").write_text("// cleanup\n")
    for node in nodes:
        node.start()
    for node in nodes:
        node.wait_ready()
    since = int(time.time() * 1000) + 200

    def enough():
        # Triggers older than 300 ms are complete: every node has fired or skipped them.
        until = int(time.time() * 1000) - 300
        runs = [r for r in _runs(pg, repo_db, since) if r[1] <= until]
        cron = {r[1] for r in runs if r[0] == "persisted-cron"}
        local = [r for r in runs if r[0] == "local"]
        local_triggers = {r[1] for r in local}
        return len(cron) >= 2 and len(local) >= 3 * 2 and len(local_triggers) >= 2 and runs

    runs = wait_for(enough, 15, "schedule executions")

    by_trigger = defaultdict(list)
    for schedule, fire_ms, node_id, persisted, outcome in runs:
        by_trigger[(schedule, fire_ms)].append((node_id, persisted, outcome))
    persisted = {k: v for k, v in by_trigger.items() if k[0].startswith("persisted-")}
    # exactly once per trigger, and no trigger missed
    assert all(len(v) == 1 for v in persisted.values()), persisted
    simple = sorted(ms for (name, ms) in persisted if name == "persisted-simple")
    assert len(simple) >= 3 and all(ms % 300 == 0 for ms in simple)
    assert simple == list(range(simple[0], simple[-1] + 1, 300))
    cron = sorted(ms for (name, ms) in persisted if name == "persisted-cron")
    assert cron == list(range(cron[0], cron[-1] + 1, 1000)) and cron[0] % 1000 == 0
    persisted_nodes = {v[0][0] for v in persisted.values()}
    assert persisted_nodes <= {"a", "b"}  # executePersistentSchedules=false and standby: never
    # in-memory schedule: every active node fires every trigger
    local = {ms: v for (name, ms), v in by_trigger.items() if name == "local"}
    assert local and all(ms % 400 == 0 for ms in local)
    complete = [v for v in local.values() if len(v) == 3]
    assert complete, local
    for entries in complete:
        assert sorted(e[0] for e in entries) == ["a", "b", "no-persisted"]
        outcome = {e[0]: e[2] for e in entries}
        assert outcome["a"] == "ok"
        assert outcome["b"] == "failed: script script/cleanup.js not found on this node"
    assert all(r[2] != "standby" for r in runs)
    assert not {r[0] for r in runs} & {"off", "broken"}
    assert "schedule broken not created" in a.log_text()
    assert "script script/cleanup.js not found" in b.log_text()

    # Once switched to ACTIVE, the standby node runs schedules too.
    assert standby.activate().status == 200
    after = int(time.time() * 1000)
    wait_for(lambda: any(r[2] == "standby" for r in _runs(pg, repo_db, after)), 5, "standby runs")
