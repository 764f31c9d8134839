"""Configuration objects as code: IDM's file names for PIDs, the config_objects filter's checks,
and the comparison that treats a field IDM encrypted as equal (module_utils/config_objects)."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.filter.config_objects import config_objects
from ansible_collections.idm_automation.cluster.plugins.module_utils import (
    config_objects as co,
)
from hypothesis import given
from hypothesis import strategies as st

NAME = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._]{0,20}", fullmatch=True)
INSTANCE = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)
PIDS = st.one_of(NAME, st.builds(lambda f, i: f"{f}/{i}", NAME, INSTANCE))
ENCRYPTED = {"$crypto": {"type": "x-simple-encryption", "value": {"data": "..."}}}


@pytest.mark.parametrize(
    "file_name, pid",
    [
        ("sync.json", "sync"),
        ("managed.json", "managed"),
        ("provisioner.openicf-ldap.json", "provisioner.openicf/ldap"),
        ("schedule-nightly-recon.json", "schedule/nightly-recon"),
        ("endpoint-linkedView.json", "endpoint/linkedView"),
    ],
)
def test_file_names_follow_idm(file_name: str, pid: str) -> None:
    assert co.pid_of(file_name) == pid
    assert co.file_of(pid) == file_name


@given(PIDS)
def test_every_valid_pid_has_a_file_that_names_it_back(pid: str) -> None:
    assert co.PID.match(pid)
    assert co.pid_of(co.file_of(pid)) == pid


def test_inline_objects_and_files_become_one_sorted_list() -> None:
    files = [{"name": "provisioner.openicf-ldap.json", "content": '{"enabled": true}'}]
    result = config_objects({"sync": {"mappings": [], "_id": "sync"}}, files, ["provisioner.*"])
    assert [r["pid"] for r in result] == ["provisioner.openicf/ldap", "sync"]
    ldap, sync = result
    assert (ldap["file"], ldap["product_rewrites"]) == ("provisioner.openicf-ldap.json", True)
    assert (sync["object"], sync["product_rewrites"]) == ({"mappings": []}, False)
    assert json.loads(sync["content"]) == {"mappings": []}  # _id is IDM's, not written
    assert sync["content"].endswith("\n")


def test_the_content_is_stable_whatever_the_key_order() -> None:
    one = config_objects({"x": {"b": 1, "a": [1, 2]}})[0]["content"]
    two = config_objects({"x": {"a": [1, 2], "b": 1}})[0]["content"]
    assert one == two


@pytest.mark.parametrize(
    "inline, files, message",
    [
        ({"cluster": {}}, [], "cluster is written by the collection from idm_cluster_"),
        ({"schedule/x": {}}, [], "from idm_schedules"),
        ({"webserver.listener/https": {}}, [], "from idm_listeners"),
        ({"datasource.jdbc/default": {}}, [], "idm_repo_"),
        ({"a/b/c": {}}, [], "is not a configuration object name"),
        ({"-x": {}}, [], "is not a configuration object name"),
        ({"sync": []}, [], "is not a JSON object"),
        ({}, [{"name": "sync.json", "content": "{"}], "sync.json is not valid JSON"),
        ({}, [{"name": "sync.json", "content": "[1]"}], "file sync.json is not a JSON object"),
        ({}, [{"name": "notes.txt", "content": ""}], "notes.txt is not a .json file"),
        (
            {"sync": {}},
            [{"name": "sync.json", "content": "{}"}],
            "given inline (idm_config_objects) and as file sync.json",
        ),
    ],
)
def test_bad_objects_are_refused_with_the_fix(inline, files, message) -> None:
    with pytest.raises(AnsibleFilterError, match="configuration as code") as error:
        config_objects(inline, files)
    assert message in str(error.value)
    assert "Fix:" in str(error.value)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(AnsibleFilterError) as error:
        config_objects({"cluster": {}, "sync": [], "a/b/c": {}})
    assert all(f"({n})" in str(error.value) for n in (1, 2, 3))


def test_not_a_mapping_is_refused() -> None:
    with pytest.raises(AnsibleFilterError, match="must be a mapping"):
        config_objects(["sync"])


@pytest.mark.parametrize(
    "wanted, current, equal",
    [
        ({"a": 1}, {"a": 1}, True),
        ({"a": 1}, {"a": 2}, False),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ({"a": True}, {"a": 1}, False),
        ({"a": [1, {"b": "x"}]}, {"a": [1, {"b": "x"}]}, True),
        ({"a": [1, 2]}, {"a": [2, 1]}, False),
        ({"p": {"credentials": "s3cret"}}, {"p": {"credentials": ENCRYPTED}}, True),
        ({"p": {"credentials": ENCRYPTED}}, {"p": {"credentials": ENCRYPTED}}, True),
        ({"p": {"credentials": "s3cret"}}, {"p": {}}, False),
    ],
)
def test_a_field_idm_encrypted_counts_as_equal(wanted, current, equal) -> None:
    assert co.same(wanted, current) is equal


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_an_object_is_the_same_as_itself(value) -> None:
    assert co.same(value, json.loads(json.dumps(value)))
