"""managed_files' planner: which files a node lacks or has wrong, which stale ones to prune, and
what the node's manifest records (contract rows C5 and C6)."""

from __future__ import annotations

import hashlib
import json

import pytest
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.managed_files import (
    PlanError,
    parse_manifest,
    plan,
    render_manifest,
)
from hypothesis import given
from hypothesis import strategies as st

CONF = "/opt/idm/openidm/conf"
MANIFEST = "/opt/idm/openidm/.idm_automation_cluster.files.json"


def sha(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


def found(path: str, content: str, mode: str = "0640", owner: str = "idm", group: str = "idm"):
    return {
        "path": path,
        "checksum": sha(content),
        "mode": mode,
        "pw_name": owner,
        "gr_name": group,
    }


def manifest(**files: str) -> str:
    return render_manifest(files)


def recorded(*items: dict) -> str:
    return render_manifest({i["path"]: sha(i["content"]) for i in items})


def run(wanted, current, text=None, prune=(), forget=(), missing=()):
    return plan(wanted, current, text, "idm", "idm", prune, forget, missing, MANIFEST)


WANTED = [
    {"path": f"{CONF}/cluster.json", "content": "{}\n", "mode": "0640"},
    {"path": "/opt/idm/openidm/resolver/boot.properties", "content": "a=1\n", "mode": "0600"},
]
CONVERGED = [found(f"{CONF}/cluster.json", "{}\n"), found(WANTED[1]["path"], "a=1\n", "0600")]
MANIFEST_STAT = found(MANIFEST, "", "0600", "root", "root")


def test_a_converged_node_needs_nothing() -> None:
    todo = run(WANTED, [*CONVERGED, MANIFEST_STAT], recorded(*WANTED))
    assert (todo.write, todo.prune, todo.manifest, todo.changed) == ([], [], None, False)


def test_a_new_node_gets_every_file_its_folders_and_a_manifest() -> None:
    todo = run(WANTED, [], None, missing=[CONF, "/elsewhere"])
    assert [i["path"] for i in todo.write] == [w["path"] for w in WANTED]
    assert todo.missing_dirs == [CONF]
    assert json.loads(todo.manifest) == {"files": {w["path"]: sha(w["content"]) for w in WANTED}}


def test_nothing_wanted_nor_recorded_leaves_no_manifest_behind() -> None:
    # configuration as code with no objects: no file to write, none recorded, no manifest made
    rules = [{"dir": CONF, "pattern": "*.json"}]
    todo = run([], [found(f"{CONF}/sync.json", "{}\n")], None, prune=rules)
    assert (todo.write, todo.prune, todo.manifest, todo.changed) == ([], [], None, False)
    # ... but a recorded file no longer wanted is pruned and the manifest emptied
    text = manifest(**{f"{CONF}/sync.json": sha("{}\n")})
    todo = run([], [found(f"{CONF}/sync.json", "{}\n"), MANIFEST_STAT], text, prune=rules)
    assert todo.prune == [f"{CONF}/sync.json"]
    assert json.loads(todo.manifest) == {"files": {}}


@pytest.mark.parametrize(
    "current",
    [
        [],  # missing
        [found(f"{CONF}/cluster.json", "{ }\n")],  # other content
        [found(f"{CONF}/cluster.json", "{}\n", mode="0644")],  # other mode
        [found(f"{CONF}/cluster.json", "{}\n", owner="root")],  # other owner
        [found(f"{CONF}/cluster.json", "{}\n", group="root")],  # other group
    ],
    ids=["missing", "content", "mode", "owner", "group"],
)
def test_any_difference_means_write(current: list) -> None:
    assert f"{CONF}/cluster.json" in [
        i["path"] for i in run(WANTED, current, recorded(*WANTED)).write
    ]


def test_per_file_owner_overrides_the_default() -> None:
    unit = {"path": "/etc/systemd/system/openidm.service", "content": "[Unit]\n", "mode": "0644",
            "owner": "root", "group": "root"}  # fmt: skip
    current = [found(unit["path"], "[Unit]\n", "0644", "root", "root"), MANIFEST_STAT]
    assert run([unit], current, recorded(unit)).changed is False


def test_a_numeric_mode_is_the_octal_mode_the_node_reports() -> None:
    # Unquoted YAML turns 0640 into the number 416: the same mode, so no write on a converged
    # node, and the write a new node needs carries the mode as write_files takes it.
    numeric = [{**WANTED[0], "mode": 0o640}, {**WANTED[1], "mode": 0o600}]
    assert run(numeric, [*CONVERGED, MANIFEST_STAT], recorded(*WANTED)).changed is False
    assert [i["mode"] for i in run(numeric, []).write] == ["0640", "0600"]


def test_a_manifest_with_the_wrong_mode_or_owner_is_written_again() -> None:
    for stat in (
        found(MANIFEST, "", "0644", "root", "root"),
        found(MANIFEST, "", "0600", "idm", "idm"),
    ):
        assert run(WANTED, [*CONVERGED, stat], recorded(*WANTED)).manifest == recorded(*WANTED)


def test_only_recorded_files_matching_a_rule_in_that_directory_are_pruned() -> None:
    """C6: IDM writes REST-made configuration back into conf/; those files are not ours."""
    wanted = [{"path": f"{CONF}/schedule-kept.json", "content": "x", "mode": "0640"}]
    current = [
        found(f"{CONF}/schedule-kept.json", "x"),
        found(f"{CONF}/schedule-dropped.json", "y"),  # written by an earlier run
        found(f"{CONF}/schedule-rest-made.json", "z"),  # written by IDM (REST, Admin UI)
        found("/elsewhere/schedule-dropped.json", "y"),
        found(f"{CONF}/webserver.listener-old.json", "y"),  # no rule for it in this call
    ]
    earlier = manifest(**{
        f"{CONF}/schedule-kept.json": sha("x"),
        f"{CONF}/schedule-dropped.json": sha("y"),
        "/elsewhere/schedule-dropped.json": sha("y"),
        f"{CONF}/webserver.listener-old.json": sha("y"),
    })  # fmt: skip
    todo = run(wanted, current, earlier, prune=[{"dir": CONF + "/", "pattern": "schedule-*.json"}])
    assert todo.prune == [f"{CONF}/schedule-dropped.json"]
    assert json.loads(todo.manifest)["files"] == {
        f"{CONF}/schedule-kept.json": sha("x"),
        "/elsewhere/schedule-dropped.json": sha("y"),  # another caller's entries are kept
        f"{CONF}/webserver.listener-old.json": sha("y"),
    }
    assert (
        run(wanted, current, None, prune=[{"dir": CONF, "pattern": "schedule-*.json"}]).prune == []
    )


def test_a_rule_with_recorded_only_false_prunes_what_the_release_shipped() -> None:
    current = [found(f"{CONF}/repo.ds.json", "ds")]
    rule = {"dir": CONF, "pattern": "repo.ds.json", "recorded_only": False}
    assert run([], current, None, prune=[rule]).prune == [f"{CONF}/repo.ds.json"]


def test_entries_of_files_gone_from_disk_are_dropped_and_forget_drops_entries() -> None:
    earlier = manifest(**{f"{CONF}/schedule-gone.json": sha("g"), f"{CONF}/ds.json": sha("d")})
    todo = run([], [], earlier, prune=[{"dir": CONF, "pattern": "schedule-*.json"}],
               forget=[f"{CONF}/ds.json"])  # fmt: skip
    assert json.loads(todo.manifest) == {"files": {}}


@pytest.mark.parametrize(
    ("wanted", "prune", "message"),
    [
        ([{"path": "/x", "content": ""}], [], "needs path, content and mode"),
        ([{"path": "x", "content": "", "mode": "0600"}], [], "must be absolute"),
        ([{"path": "/x", "content": {"a": 1}, "mode": "0600"}], [], "must be a string"),
        ([{"path": "/x", "content": "", "mode": "0600"}] * 2, [], "path twice"),
        ([], [{"dir": CONF}], "needs dir and pattern"),
    ],
    ids=["incomplete", "relative", "not-a-string", "twice", "bad-rule"],
)
def test_bad_input_is_refused(wanted: list, prune: list, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        run(wanted, [], None, prune=prune)


@pytest.mark.parametrize("text", ["not json", "[]", '{"files": ["a"]}'])
def test_a_corrupt_manifest_is_refused_with_the_fix(text: str) -> None:
    with pytest.raises(PlanError, match="remove it and run again"):
        run(WANTED, CONVERGED, text)


# --- Files the product rewrites (C5: IDM encrypts the datasource password and writes it back) ---

DS = f"{CONF}/datasource.jdbc-default.json"
RENDERED = '{"password": "s3cret"}\n'
REWRITTEN = '{"password": {"$crypto": {"value": "random IV"}}}\n'
REWRITES = [{"path": DS, "content": RENDERED, "mode": "0600", "product_rewrites": True}]


def test_a_rewritten_file_with_its_record_needs_nothing() -> None:
    current = [found(DS, REWRITTEN, "0600"), MANIFEST_STAT]
    assert run(REWRITES, current, recorded(*REWRITES)).changed is False


def test_a_rewritten_file_is_written_when_the_rendering_changes() -> None:
    current = [found(DS, REWRITTEN, "0600"), MANIFEST_STAT]
    todo = run(REWRITES, current, manifest(**{DS: sha('{"password": "old"}\n')}))
    assert [i["path"] for i in todo.write] == [DS]
    assert json.loads(todo.manifest)["files"] == {DS: sha(RENDERED)}


@pytest.mark.parametrize(
    ("current", "text"),
    [
        ([], recorded(*REWRITES)),  # the file is missing
        ([found(DS, REWRITTEN, "0600")], None),  # no record (written by hand)
        ([found(DS, REWRITTEN, "0644")], recorded(*REWRITES)),  # other mode
    ],
    ids=["missing", "no-record", "mode"],
)
def test_a_rewritten_file_is_written_when_it_or_its_record_is_off(current: list, text) -> None:
    assert [i["path"] for i in run(REWRITES, current, text).write] == [DS]


def test_the_live_checksum_of_a_rewritten_file_is_not_used() -> None:
    """Even the rendered bytes in the live file do not count: only the record does."""
    assert [i["path"] for i in run(REWRITES, [found(DS, RENDERED, "0600")], None).write] == [DS]


# --- Properties ---

NAMES = st.text(alphabet="abcdefgh", min_size=1, max_size=4)


@given(st.dictionaries(NAMES, st.text(max_size=8), max_size=6), st.sets(NAMES, max_size=6))
def test_converging_twice_changes_nothing_the_second_time(files: dict, rest_made: set) -> None:
    """Whatever a node had, once the plan is applied the next one is empty; REST-made files stay."""
    wanted = [
        {"path": f"{CONF}/schedule-{n}.json", "content": c, "mode": "0640"}
        for n, c in files.items()
    ]
    disk = {f"{CONF}/schedule-{n}.json": found(f"{CONF}/schedule-{n}.json", "rest")
            for n in rest_made - set(files)}  # fmt: skip
    rules = [{"dir": CONF, "pattern": "schedule-*.json"}]
    first = run(wanted, list(disk.values()), None, prune=rules)
    for item in first.write:
        disk[item["path"]] = found(item["path"], item["content"])
    for path in first.prune:
        disk.pop(path)
    disk[MANIFEST] = MANIFEST_STAT
    second = run(wanted, list(disk.values()), first.manifest, prune=rules)
    assert second.changed is False
    assert set(disk) - {MANIFEST} == {w["path"] for w in wanted} | {
        f"{CONF}/schedule-{n}.json" for n in rest_made - set(files)
    }
    assert parse_manifest(first.manifest) == {w["path"]: sha(w["content"]) for w in wanted}
