"""Fixtures for the IDM stand-in (test double) tests: one real PostgreSQL per session, one
database per test, and stand-in nodes started from the built zip (always killed at the end)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "idm_standin" / "openidm" / "bin"))

from standin_harness import Node, build_zip, extract


@pytest.fixture(scope="session")
def standin_zip(tmp_path_factory) -> Path:
    return build_zip(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def dist(standin_zip, tmp_path_factory) -> Path:
    """An unpacked copy of the distribution, to read its scripts from."""
    return extract(standin_zip, tmp_path_factory.mktemp("dist-unpacked"))


@pytest.fixture(scope="session")
def scripts(dist) -> Path:
    return dist / "db" / "postgresql" / "scripts"


@pytest.fixture(scope="session")
def pg(pg_server, scripts):
    """The session's PostgreSQL server (tests/unit/conftest.py) with the openidm role and
    database, created by the vendor-style script once per server."""
    result = pg_server.psql(scripts / "createuser.pgsql", "postgres", user="postgres")
    assert result.returncode == 0, result.stderr
    return pg_server


@pytest.fixture(scope="session")
def provided_keys(dist, tmp_path_factory) -> Path:
    """One keystore and truststore for the session, made by the stand-in's own generator: what
    the collection distributes to every node (its `provided`/`bootstrap` secrets modes)."""
    from idm_standin.config import Paths
    from idm_standin.props import Properties
    from idm_standin.security import prepare

    home = tmp_path_factory.mktemp("provided-keys")
    (home / "conf").mkdir()
    (home / "conf" / "secrets.json").write_bytes((dist / "conf" / "secrets.json").read_bytes())
    props = Properties(
        [
            {
                "openidm.keystore.password": "changeit",
                "openidm.truststore.password": "changeit",
                "idm.install.dir": str(home),
            }
        ]
    )
    prepare(Paths(home, home, home, home / "boot.properties"), props, "openidm-localhost")
    return home / "security"


@pytest.fixture
def repo_db(pg, scripts) -> str:
    """A fresh database with the IDM schema (openidm.pgsql run once)."""
    return pg.create_database(scripts)


@pytest.fixture
def make_node(tmp_path, standin_zip, pg, provided_keys):
    """Factory: make_node(name, dbname, node_id=name, keys=True, **configure_kwargs) -> Node.
    With keys, the node gets the session's keystore and truststore before its first start (so
    nodes can start together); without, it generates its own on first start."""
    nodes: list[Node] = []

    def factory(
        name: str, dbname: str | None, node_id: str | None = None, keys: bool = True, **kwargs
    ) -> Node:
        node = Node(tmp_path, standin_zip, name)
        node.configure(pg, dbname, node_id or name, **kwargs)
        if keys:
            for path in provided_keys.iterdir():
                shutil.copy2(path, node.home / "security" / path.name)
        nodes.append(node)
        return node

    yield factory
    for node in nodes:
        node.kill()
