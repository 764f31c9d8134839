"""Fixtures for the IDM stand-in (test double) tests: one real PostgreSQL per session, one
database per test, and stand-in nodes started from the built zip (always killed at the end).
The fixtures themselves (``make_node``, ``repo_db``, ...) live in ``tests/unit/conftest.py`` so that
the module tests can run the collection's modules against real stand-in nodes too."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "idm_standin" / "openidm" / "bin"))
