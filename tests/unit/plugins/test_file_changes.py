"""file_changes: which managed files a node lacks or has wrong, and which stale ones to prune."""

from __future__ import annotations

import hashlib

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.filter.file_changes import file_changes

CONF = "/opt/idm/openidm/conf"


def found(path: str, content: str, mode: str = "0640", owner: str = "idm", group: str = "idm"):
    digest = hashlib.sha256(content.encode()).hexdigest()
    return {"path": path, "checksum": digest, "mode": mode, "pw_name": owner, "gr_name": group}


WANTED = [
    {"path": f"{CONF}/cluster.json", "content": "{}\n", "mode": "0640"},
    {"path": "/opt/idm/openidm/resolver/boot.properties", "content": "a=1\n", "mode": "0600"},
]


def test_a_converged_node_needs_nothing() -> None:
    current = [found(f"{CONF}/cluster.json", "{}\n"), found(WANTED[1]["path"], "a=1\n", "0600")]
    assert file_changes(WANTED, current, "idm", "idm") == {
        "write": [],
        "restart": [],
        "prune": [],
        "records": [],
    }


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
    assert f"{CONF}/cluster.json" in file_changes(WANTED, current, "idm", "idm")["write"]


def test_per_file_owner_overrides_the_default() -> None:
    unit = {"path": "/etc/systemd/system/openidm.service", "content": "[Unit]\n", "mode": "0644",
            "owner": "root", "group": "root"}  # fmt: skip
    current = [found(unit["path"], "[Unit]\n", "0644", "root", "root")]
    assert file_changes([unit], current, "idm", "idm")["write"] == []


def test_prune_takes_only_unmanaged_files_matching_the_pattern_in_that_directory() -> None:
    wanted = [{"path": f"{CONF}/webserver.listener-http.json", "content": "x", "mode": "0640"}]
    current = [
        found(f"{CONF}/webserver.listener-http.json", "x"),
        found(f"{CONF}/webserver.listener-old.json", "y"),
        found(f"{CONF}/schedule-a.json", "z"),
        found("/elsewhere/webserver.listener-old.json", "y"),
    ]
    rules = [{"dir": CONF + "/", "pattern": "webserver.listener-*.json"}]
    assert file_changes(wanted, current, "idm", "idm", rules) == {
        "write": [],
        "restart": [],
        "prune": [f"{CONF}/webserver.listener-old.json"],
        "records": [],
    }


def test_files_marked_restart_false_are_written_without_a_restart() -> None:
    fact = {
        "path": "/etc/ansible/facts.d/x.fact",
        "content": "{}",
        "mode": "0644",
        "restart": False,
    }
    changes = file_changes([*WANTED, fact], [], "idm", "idm")
    assert changes["write"] == [WANTED[0]["path"], WANTED[1]["path"], fact["path"]]
    assert changes["restart"] == [WANTED[0]["path"], WANTED[1]["path"]]


def test_incomplete_items_are_refused() -> None:
    with pytest.raises(AnsibleFilterError, match="needs path, content and mode"):
        file_changes([{"path": "/x", "content": ""}], [], "idm", "idm")


def test_with_a_manifest_only_files_the_collection_wrote_are_pruned() -> None:
    """C6: IDM writes REST-made configuration back into conf/; those files are not ours."""
    wanted = [{"path": f"{CONF}/schedule-kept.json", "content": "x", "mode": "0640"}]
    current = [
        found(f"{CONF}/schedule-kept.json", "x"),
        found(f"{CONF}/schedule-dropped.json", "y"),  # written by an earlier run
        found(f"{CONF}/schedule-rest-made.json", "z"),  # written by IDM (REST, Admin UI)
    ]
    rules = [{"dir": CONF, "pattern": "schedule-*.json"}]
    owned = [f"{CONF}/schedule-kept.json", f"{CONF}/schedule-dropped.json"]
    assert file_changes(wanted, current, "idm", "idm", rules, owned)["prune"] == [
        f"{CONF}/schedule-dropped.json"
    ]
    assert file_changes(wanted, current, "idm", "idm", rules, [])["prune"] == []
    with pytest.raises(AnsibleFilterError, match="owned"):
        file_changes(wanted, current, "idm", "idm", rules, "not-a-list")


# --- Files the product rewrites (C5: IDM encrypts the datasource password and writes it back) ---

DS = f"{CONF}/datasource.jdbc-default.json"
RECORD = f"{CONF}/.datasource.jdbc-default.json.rendered.sha256"
RENDERED = '{"password": "s3cret"}\n'
REWRITTEN = '{"password": {"$crypto": {"value": "random IV"}}}\n'
REWRITES = [{"path": DS, "content": RENDERED, "mode": "0600", "product_rewrites": True}]


def record_of(content: str) -> dict:
    digest = hashlib.sha256(content.encode()).hexdigest()
    return found(RECORD, digest + "\n", "0600", "root", "root")


def test_a_rewritten_file_with_its_record_needs_nothing() -> None:
    current = [found(DS, REWRITTEN, "0600"), record_of(RENDERED)]
    changes = file_changes(REWRITES, current, "idm", "idm")
    assert changes == {"write": [], "restart": [], "prune": [], "records": []}


def test_a_rewritten_file_is_written_when_the_rendering_changes() -> None:
    current = [found(DS, REWRITTEN, "0600"), record_of('{"password": "old"}\n')]
    changes = file_changes(REWRITES, current, "idm", "idm")
    assert changes["write"] == [DS] and changes["restart"] == [DS]
    digest = hashlib.sha256(RENDERED.encode()).hexdigest()
    assert changes["records"] == [
        {"path": RECORD, "content": digest + "\n", "mode": "0600", "owner": "root",
         "group": "root", "restart": False}
    ]  # fmt: skip


@pytest.mark.parametrize(
    "current",
    [
        [record_of(RENDERED)],  # the file is missing
        [found(DS, REWRITTEN, "0600")],  # no record (written by hand, or by an older version)
        [found(DS, REWRITTEN, "0644"), record_of(RENDERED)],  # other mode
    ],
    ids=["missing", "no-record", "mode"],
)
def test_a_rewritten_file_is_written_when_it_or_its_record_is_off(current: list) -> None:
    assert file_changes(REWRITES, current, "idm", "idm")["write"] == [DS]


def test_the_live_checksum_of_a_rewritten_file_is_not_used() -> None:
    """Even the rendered bytes in the live file do not count: only the record does."""
    current = [found(DS, RENDERED, "0600")]
    assert file_changes(REWRITES, current, "idm", "idm")["write"] == [DS]
