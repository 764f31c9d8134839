"""Fixtures for the IDM stand-in (test double) tests: one real PostgreSQL per session, one
database per test, and stand-in nodes started from the built zip (always killed at the end).
The fixtures themselves (``make_node``, ``repo_db``, ...) live in ``tests/unit/conftest.py`` so that
the module tests can run the collection's modules against real stand-in nodes too. Here: the
other product versions (``--version``) and their repository schemas."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "idm_standin" / "openidm" / "bin"))


@pytest.fixture(scope="session")
def versioned_zip(tmp_path_factory):
    """Factory: versioned_zip(version) -> the zip built with ``--version``, once per session."""
    from standin_harness import build_zip

    built: dict[str, Path] = {}

    def factory(version: str) -> Path:
        if version not in built:
            built[version] = build_zip(tmp_path_factory.mktemp(f"dist-{version}"), version)
        return built[version]

    return factory


@pytest.fixture(scope="session")
def versioned_dist(versioned_zip, tmp_path_factory):
    """Factory: versioned_dist(version) -> an unpacked copy of that version's zip."""
    from standin_harness import extract

    unpacked: dict[str, Path] = {}

    def factory(version: str) -> Path:
        if version not in unpacked:
            target = tmp_path_factory.mktemp(f"dist-{version}-unpacked")
            unpacked[version] = extract(versioned_zip(version), target)
        return unpacked[version]

    return factory


@pytest.fixture
def schema_db(pg, versioned_dist):
    """Factory: schema_db(version) -> a fresh database whose schema that version's
    openidm.pgsql created (run once as the repository user, like the operator does)."""

    def factory(version: str) -> str:
        name = pg.create_database(None)
        ddl = versioned_dist(version) / "db" / "postgresql" / "scripts" / "openidm.pgsql"
        result = pg.psql(ddl, name)
        assert result.returncode == 0, result.stderr
        return name

    return factory


@pytest.fixture
def make_version_node(make_node, versioned_zip):
    """Factory like ``make_node`` for another product version:
    make_version_node(version, name, dbname, node_id=name, **configure_kwargs) -> Node, with the
    session's keystore and truststore."""

    def factory(version: str, name: str, dbname: str | None, node_id: str | None = None, **kwargs):
        return make_node(name, dbname, node_id, distribution=versioned_zip(version), **kwargs)

    return factory
