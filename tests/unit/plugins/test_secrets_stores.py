"""secrets_stores: secrets.json's main stores read file, type and password from boot.properties,
whichever form the distribution ships (contract row C11, uncertain: property expressions or
literals)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.filter.secrets_stores import (
    secrets_stores,
)

STANDIN = Path(__file__).resolve().parents[2] / "idm_standin"
PROPERTIES = (STANDIN / "openidm/conf/secrets.json").read_text()
LITERALS = (STANDIN / "variants/c11-literals/conf/secrets.json").read_text()


def _configs(text: str) -> dict[str, dict]:
    return {s["name"]: s["config"] for s in json.loads(text)["stores"]}


def test_c11_property_variant_is_kept_byte_for_byte() -> None:
    assert secrets_stores(PROPERTIES) == PROPERTIES


def test_c11_literal_variant_follows_the_boot_properties() -> None:
    out = _configs(secrets_stores(LITERALS))
    assert out["mainKeyStore"]["storePassword"] == "&{openidm.keystore.password}"
    assert out["mainKeyStore"]["file"] == (
        "&{openidm.keystore.location|&{idm.data.dir}/security/keystore.jceks}"
    )
    assert out["mainKeyStore"]["storetype"] == "&{openidm.keystore.type|JCEKS}"
    assert out["mainTrustStore"]["storePassword"] == "&{openidm.truststore.password}"
    assert out["mainTrustStore"]["file"] == (
        "&{openidm.truststore.location|&{idm.data.dir}/security/truststore}"
    )
    assert "changeit" not in secrets_stores(LITERALS)


def test_c11_everything_else_is_kept() -> None:
    before, after = json.loads(LITERALS), json.loads(secrets_stores(LITERALS))
    for store in before["stores"] + after["stores"]:
        for key in ("file", "storetype", "storePassword"):
            store["config"].pop(key)
    assert before == after


def test_c11_idempotent() -> None:
    once = secrets_stores(LITERALS)
    assert secrets_stores(once) == once


def test_other_properties_and_missing_fields_are_replaced() -> None:
    doc = {
        "stores": [
            {"name": "mainKeyStore", "config": {"storePassword": "&{my.password}"}},
            {"name": "mainTrustStore", "config": {"file": "&{openidm.truststore.location}"}},
            {"name": "other", "config": {"storePassword": "kept"}},
        ]
    }
    out = json.loads(secrets_stores(json.dumps(doc)))
    key, trust, other = (s["config"] for s in out["stores"])
    assert key == {
        "storePassword": "&{openidm.keystore.password}",
        "file": "&{openidm.keystore.location}",
        "storetype": "&{openidm.keystore.type}",
    }
    assert trust["file"] == "&{openidm.truststore.location}"
    assert other == {"storePassword": "kept"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "no list of stores"),
        ('{"stores": [{"name": "mainKeyStore", "config": {}}]}', "no mainTrustStore store"),
        (
            '{"stores": [{"name": "mainKeyStore"}, {"name": "mainTrustStore"}]}',
            "mainKeyStore or mainTrustStore",
        ),
    ],
)
def test_bad_input_is_named(text: str, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        secrets_stores(text)


def test_not_text() -> None:
    with pytest.raises(AnsibleFilterError, match="expects the text"):
        secrets_stores({"stores": []})  # type: ignore[arg-type]
