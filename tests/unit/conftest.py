"""Fixtures shared by every unit test directory: one throwaway PostgreSQL server per session.

The server runs from the local PostgreSQL binaries in a temporary directory, as an unprivileged
user when the tests run as root (initdb refuses root), listening on 127.0.0.1 and a private Unix
socket (``standin/standin_harness.py``, ``PostgresServer``). It starts on first use, so test
directories that never ask for it never pay for it; tests skip when no binaries are installed.
Each directory adds what it needs on top: ``modules/`` a login role of its own and a fresh
database per test. The stand-in fixtures (the built zip, the vendor-style ``openidm`` role and
database, ``repo_db`` with the IDM schema, ``make_node`` for stand-in nodes as real processes) are
here too, used by ``standin/`` and by the module tests that talk to a real stand-in node.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

# standin/standin_harness.py holds the PostgreSQL server and the polling helper every directory
# uses; put it on sys.path before any test module is imported.
STANDIN_TESTS = Path(__file__).resolve().parent / "standin"
if str(STANDIN_TESTS) not in sys.path:
    sys.path.insert(0, str(STANDIN_TESTS))
# The stand-in's own package (idm_standin), for provided_keys.
STANDIN_BIN = Path(__file__).resolve().parents[1] / "idm_standin" / "openidm" / "bin"
if str(STANDIN_BIN) not in sys.path:
    sys.path.insert(0, str(STANDIN_BIN))


@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL server (``standin_harness.PostgresServer``), stopped at the end."""
    from standin_harness import PostgresServer, find_pg_bindir

    bindir = find_pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql")
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def standin_zip(tmp_path_factory) -> Path:
    from standin_harness import build_zip

    return build_zip(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def dist(standin_zip, tmp_path_factory) -> Path:
    """An unpacked copy of the distribution, to read its scripts from."""
    from standin_harness import extract

    return extract(standin_zip, tmp_path_factory.mktemp("dist-unpacked"))


@pytest.fixture(scope="session")
def scripts(dist) -> Path:
    return dist / "db" / "postgresql" / "scripts"


@pytest.fixture(scope="session")
def pg(pg_server, scripts):
    """The session's PostgreSQL server (``pg_server``) with the openidm role and
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
    """Factory: make_node(name, dbname, node_id=name, keys=True, distribution=None,
    **configure_kwargs) -> Node (distribution: another stand-in zip than the 8.1.0 one).
    With keys, the node gets the session's keystore and truststore before its first start (so
    nodes can start together); without, it generates its own on first start."""
    from standin_harness import Node

    nodes: list[Node] = []

    def factory(
        name: str,
        dbname: str | None,
        node_id: str | None = None,
        keys: bool = True,
        distribution=None,
        **kwargs,
    ) -> Node:
        node = Node(tmp_path, distribution or standin_zip, name)
        node.configure(pg, dbname, node_id or name, **kwargs)
        if keys:
            for path in provided_keys.iterdir():
                shutil.copy2(path, node.home / "security" / path.name)
        nodes.append(node)
        return node

    yield factory
    for node in nodes:
        node.kill()
