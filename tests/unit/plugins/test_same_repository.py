"""same_repository: repositories compared by what they resolve to, never by their text alone."""

from __future__ import annotations

import pytest
from ansible_collections.idm_automation.cluster.plugins.filter.same_repository import (
    same_repository,
)
from ansible_collections.idm_automation.cluster.plugins.module_utils.repository_identity import (
    parse,
    show,
)

PG1 = {"host": "pg1", "port": 5432, "database": "openidm", "addresses": ["10.0.0.5"]}


def conn(host: str, addresses=None, port: int = 5432, database: str = "openidm") -> dict:
    value = {"host": host, "port": port, "database": database}
    if addresses is not None:
        value["addresses"] = addresses
    return value


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("pg1:5432/openidm", conn("pg1")),
        ("pg1:5432/openidm", conn("PG1.")),
        (PG1, conn("pg1.example.com", ["10.0.0.5"])),
        (PG1, conn("10.0.0.5")),
        (PG1, conn("::ffff:10.0.0.5")),
        (conn("pg1", ["10.0.0.5", "fd00::5"]), conn("pg-alias", ["fd00:0::5"])),
        ("[fd00::5]:5432/openidm", conn("fd00::5")),
        ("::1:5432/openidm", conn("::1")),
    ],
)
def test_same(first, second) -> None:
    assert same_repository(first, second)
    assert same_repository(second, first)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (PG1, conn("pg2", ["10.0.0.9"])),
        ("pg1:5432/openidm", conn("pg1.example.com")),  # unresolved: a change, the safe answer
        (PG1, conn("pg1", port=5433)),
        (PG1, conn("pg1", database="idm")),
        (PG1, conn("pg1", database="OpenIDM")),  # PostgreSQL database names are case-sensitive
        ("somewhere", conn("pg1")),
        (None, conn("pg1")),
        (conn("pg1", port=True), conn("pg1", port=1)),
    ],
)
def test_not_same(first, second) -> None:
    assert not same_repository(first, second)
    assert not same_repository(second, first)


def test_parse_and_show() -> None:
    assert parse("pg1:5432/openidm") == conn("pg1", [])
    assert parse("10.0.0.5:5432/openidm") == conn("10.0.0.5", ["10.0.0.5"])
    assert show(PG1) == "pg1:5432/openidm (10.0.0.5)"
    assert show("pg1:5432/openidm") == "pg1:5432/openidm (not resolved)"
    assert show("10.0.0.5:5432/openidm") == "10.0.0.5:5432/openidm"
