"""Run the collection's modules the way Ansible runs them, and give them a real PostgreSQL.

``run_module(name, args)`` starts ``plugins/modules/<name>.py`` of this checkout as its own Python
process with an ``ANSIBLE_MODULE_ARGS`` JSON file (Ansible's supported way to invoke a module
directly: ``AnsibleModule`` parses, validates and answers in JSON exactly as under AnsiballZ), and
returns the parsed JSON result. ``start_module`` does the same without waiting, for tests that run
several modules at once. The module imports its module_utils by their collection path
(``ansible_collections.idm_automation.cluster.plugins.module_utils``), as AnsiballZ provides them:
``PYTHONPATH`` names a directory where that path leads to this checkout.

The PostgreSQL server is the session's (``pg_server`` in ``tests/unit/conftest.py``); these tests
log in through TCP on 127.0.0.1 as a login role of their own (``schema_owner``, with a password),
and every test gets a fresh database owned by that role (``empty_db``).
"""

from __future__ import annotations

import atexit
import importlib
import itertools
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
MODULES = REPO_ROOT / "plugins" / "modules"
ROLE = "idm_schema_owner"
_db_numbers = itertools.count(1)


@dataclass
class ModuleProcess:
    process: subprocess.Popen
    args_file: Path

    def result(self, timeout: float = 120) -> dict[str, Any]:
        stdout, stderr = self.process.communicate(timeout=timeout)
        try:
            result = json.loads(stdout)
        except ValueError:
            raise AssertionError(
                f"the module did not answer in JSON (rc {self.process.returncode})\n"
                f"stdout: {stdout}\nstderr: {stderr}"
            ) from None
        # AnsibleModule exits 1 on fail_json, 0 on exit_json.
        assert self.process.returncode == (1 if result.get("failed") else 0), (stdout, stderr)
        result["_stdout"], result["_stderr"] = stdout, stderr
        return result


def _collection_path() -> Path:
    """A directory holding ``ansible_collections/idm_automation/cluster`` -> this checkout."""
    base = Path(tempfile.mkdtemp(prefix="idm-automation-modules-"))
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    namespace = base / "ansible_collections" / "idm_automation"
    namespace.mkdir(parents=True)
    (namespace / "cluster").symlink_to(REPO_ROOT, target_is_directory=True)
    return base


# The module processes get it on PYTHONPATH; the tests that call module_utils in process (and
# share this directory's helpers, fake_idm.py) get it on sys.path.
COLLECTION_PATH = _collection_path()
for _path in (str(COLLECTION_PATH), str(Path(__file__).resolve().parent)):
    if _path not in sys.path:
        sys.path.insert(0, _path)
importlib.invalidate_caches()


@pytest.fixture
def start_module(tmp_path):
    counter = itertools.count(1)
    started: list[ModuleProcess] = []
    pythonpath = os.pathsep.join(
        p for p in (str(COLLECTION_PATH), os.environ.get("PYTHONPATH")) if p
    )

    def start(
        name: str, args: dict[str, Any], check_mode: bool = False, env: dict | None = None
    ) -> ModuleProcess:
        args_file = tmp_path / f"{name}-args-{next(counter)}.json"
        module_args = {**args, "_ansible_check_mode": check_mode}
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": module_args}))
        process = subprocess.Popen(
            [sys.executable, str(MODULES / f"{name}.py"), str(args_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": pythonpath, **(env or {})},
        )
        started.append(ModuleProcess(process, args_file))
        return started[-1]

    yield start
    for module in started:
        if module.process.poll() is None:
            module.process.kill()
            module.process.communicate()


@pytest.fixture
def run_module(start_module):
    def run(name: str, args: dict[str, Any], check_mode: bool = False, **kwargs) -> dict:
        return start_module(name, args, check_mode=check_mode, **kwargs).result()

    return run


@dataclass(frozen=True)
class Login:
    host: str
    port: int
    user: str
    password: str


@pytest.fixture(scope="session")
def schema_owner(pg_server) -> Login:
    """A login role (not a superuser) that the module uses; it owns each test's database."""
    password = secrets.token_urlsafe(16)
    pg_server.admin.execute(
        f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{password}'"
    )
    return Login("127.0.0.1", pg_server.port, ROLE, password)


@pytest.fixture
def empty_db(pg_server, schema_owner) -> str:
    """A fresh, empty database owned by the module's login role; dropped after the test."""
    name = f"repo_schema_{os.getpid()}_{next(_db_numbers)}"
    pg_server.admin.execute(f"CREATE DATABASE {name} OWNER {schema_owner.user}")
    yield name
    pg_server.admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def fake(request):
    """Factory: fake(**kwargs) -> a running ``fake_idm.FakeIdm``, closed at the end of the test.
    A test module's ``FAKE_IDM_DEFAULTS`` (e.g. the admin password) apply unless overridden."""
    from fake_idm import FakeIdm

    defaults = getattr(request.module, "FAKE_IDM_DEFAULTS", {})
    servers: list[FakeIdm] = []

    def start(**kwargs) -> FakeIdm:
        servers.append(FakeIdm(**{**defaults, **kwargs}))
        return servers[-1]

    yield start
    for server in servers:
        server.close()
