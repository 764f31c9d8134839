"""Fixtures shared by every unit test directory: one throwaway PostgreSQL server per session.

The server runs from the local PostgreSQL binaries in a temporary directory, as an unprivileged
user when the tests run as root (initdb refuses root), listening on 127.0.0.1 and a private Unix
socket (``standin/standin_harness.py``, ``PostgresServer``). It starts on first use, so test
directories that never ask for it never pay for it; tests skip when no binaries are installed.
Each directory adds what it needs on top: ``standin/`` the vendor-style ``openidm`` role and
database, ``modules/`` a login role of its own and a fresh database per test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# standin/standin_harness.py holds the PostgreSQL server and the polling helper every directory
# uses; put it on sys.path before any test module is imported.
STANDIN_TESTS = Path(__file__).resolve().parent / "standin"
if str(STANDIN_TESTS) not in sys.path:
    sys.path.insert(0, str(STANDIN_TESTS))


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
