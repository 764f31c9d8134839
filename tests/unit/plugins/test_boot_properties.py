"""boot_properties: the collection's keys set in the product's shipped file, every other line kept
(contract row C12: the shipped resolver/boot.properties holds more keys than the collection
sets)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.filter.boot_properties import (
    boot_properties,
)
from hypothesis import given
from hypothesis import strategies as st

SHIPPED = (
    Path(__file__).resolve().parents[2] / "idm_standin/openidm/resolver/boot.properties"
).read_text()


def _parse(text: str) -> dict[str, str]:
    """Active key=value lines (the test inputs have no continuation lines)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, value = line.split("=", 1)
            assert key not in values, f"{key} set twice"
            values[key] = value
    return values


def test_keys_are_set_in_place_and_every_other_line_is_kept():
    result = boot_properties(
        SHIPPED, {"openidm.node.id": "idm2", "openidm.host": "idm.example.com"}
    )
    shipped_lines = SHIPPED.splitlines()
    result_lines = result.splitlines()
    assert len(result_lines) == len(shipped_lines)
    changed = [(a, b) for a, b in zip(shipped_lines, result_lines, strict=True) if a != b]
    assert changed == [
        ("openidm.host=localhost", "openidm.host=idm.example.com"),
        ("openidm.node.id=node1", "openidm.node.id=idm2"),
    ]
    assert _parse(result)["openidm.servlet.alias"] == "/openidm"


def test_commented_keys_are_activated_where_they_stand_and_unknown_keys_appended():
    result = boot_properties(
        "a=1\n#feature.x=true\nb=2\n",
        {"feature.x": True, "new.key": 5, "a": "one"},
        ["Managed by idm_automation.cluster"],
    )
    assert result == (
        "# Managed by idm_automation.cluster\na=one\nfeature.x=true\nb=2\n\n"
        "# Set by idm_automation.cluster (not in the shipped file)\nnew.key=5\n"
    )


def test_none_comments_a_key_out_and_duplicates_are_dropped():
    result = boot_properties(
        "openidm.node.id=node1\nx=1\nopenidm.node.id=node9\n", {"openidm.node.id": None}
    )
    assert result == "#openidm.node.id=node1\nx=1\n"
    assert "openidm.node.id" not in _parse(result)


def test_continuation_lines_go_with_their_key():
    shipped = "list=a,\\\n    b,\\\n    c\nother=1\n"
    assert boot_properties(shipped, {"list": "z"}) == "list=z\nother=1\n"
    assert boot_properties(shipped, {"other": "2"}) == "list=a,\\\n    b,\\\n    c\nother=2\n"


def test_empty_shipped_file_gives_the_settings_alone():
    assert boot_properties("", {"k": "v"}) == (
        "\n# Set by idm_automation.cluster (not in the shipped file)\nk=v\n"
    )


@pytest.mark.parametrize(
    ("shipped", "settings", "message"),
    [
        (None, {}, "shipped file's text"),
        ("", ["k"], "must be a dict"),
        ("", {"k": ["v"]}, "value of k must be"),
    ],
)
def test_bad_input_is_refused(shipped, settings, message):
    with pytest.raises(AnsibleFilterError, match=message):
        boot_properties(shipped, settings)


_keys = st.from_regex(r"[a-z][a-z0-9.]{0,12}", fullmatch=True)
_values = st.from_regex(r"[A-Za-z0-9/_.-]{0,10}", fullmatch=True)


@given(
    shipped=st.dictionaries(_keys, _values, max_size=8),
    commented=st.lists(_keys, max_size=3),
    settings=st.dictionaries(_keys, _values, max_size=6),
)
def test_result_has_the_settings_and_keeps_every_other_shipped_key(shipped, commented, settings):
    text = "".join(f"{k}={v}\n" for k, v in shipped.items()) + "".join(
        f"#{k}=x\n" for k in commented
    )
    result = _parse(boot_properties(text, settings))
    for key, value in settings.items():
        assert result[key] == value
    for key, value in shipped.items():
        if key not in settings:
            assert result[key] == value
    assert set(result) == set(shipped) | set(settings)
