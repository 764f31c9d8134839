"""The node_id filter: always a valid node ID, or a clear error."""

from __future__ import annotations

import re

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.filter.node_id import FilterModule, node_id
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants import (
    NODE_ID_REGEX,
    is_valid_node_id,
)
from hypothesis import given, settings
from hypothesis import strategies as st

VALID = re.compile(NODE_ID_REGEX)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("idm1", "idm1"),
        ("idm1.example.com", "idm1.example.com"),
        ("IDM1", "IDM1"),  # case is preserved
        ("idm_1", "idm_1"),
        ("IDM_1 (rack 4)", "IDM_1-rack-4-"),
        ("_idm1", "idm1"),
        ("--..idm1", "idm1"),
        ("idm  1", "idm-1"),
        ("idm@@@1", "idm-1"),
        ("idm---1", "idm-1"),
        ("\uff49\uff44\uff4d\uff11", "idm1"),  # full-width letters and digit
        ("nœud1", "n-ud1"),
        ("10.0.0.11", "10.0.0.11"),
        ("a" * 100, "a" * 64),
    ],
)
def test_derivation(name: str, expected: str) -> None:
    assert node_id(name) == expected


@pytest.mark.parametrize("name", ["", "   ", "#!", "---", "._-", "ノード", "ß"])
def test_nothing_valid_left_raises(name: str) -> None:
    with pytest.raises(AnsibleFilterError, match="set idm_node_id"):
        node_id(name)


@pytest.mark.parametrize("name", [None, 1, ["idm1"]])
def test_non_string_raises(name: object) -> None:
    with pytest.raises(AnsibleFilterError, match="host name string"):
        node_id(name)


def test_registered() -> None:
    assert FilterModule().filters() == {"node_id": node_id}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_output_is_valid_or_raises(name: str) -> None:
    try:
        result = node_id(name)
    except AnsibleFilterError:
        return
    assert VALID.fullmatch(result) and is_valid_node_id(result)
    assert node_id(result) == result  # stable


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._]{0,63}", fullmatch=True))
def test_valid_ids_without_dashes_are_kept(name: str) -> None:
    assert node_id(name) == name
