"""Make this checkout importable as ``ansible_collections.idm_automation.cluster``.

The plugins import their shared code by its collection path, as Ansible loads them. For the unit
tests a temporary directory holding ``ansible_collections/idm_automation/cluster`` (a symlink to
the repository root) is put first on ``sys.path``; ``ansible_collections`` is a namespace package,
so the collections bundled with the ``ansible`` package stay importable too. This directory is
also put on ``sys.path`` so that the tests can share the ``idm_cluster_factory`` and
``play_output`` helpers whatever pytest import mode is used. The same directory is the collections
path of the ``ansible_playbook`` fixture, which runs a play on localhost with this checkout's
plugins.
"""

from __future__ import annotations

import atexit
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
COLLECTION = "ansible_collections.idm_automation.cluster"


def _install_collection() -> Path:
    base = Path(tempfile.mkdtemp(prefix="idm-automation-unit-"))
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    namespace = base / "ansible_collections" / "idm_automation"
    namespace.mkdir(parents=True)
    (namespace / "cluster").symlink_to(REPO_ROOT, target_is_directory=True)
    sys.path.insert(0, str(base))
    importlib.invalidate_caches()
    module = importlib.import_module(f"{COLLECTION}.plugins.plugin_utils.invariants")
    location = Path(module.__file__ or "").resolve()
    if REPO_ROOT not in location.parents:
        raise RuntimeError(f"{COLLECTION} resolves to {location}, not to this checkout {REPO_ROOT}")
    return base


if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
COLLECTIONS_BASE = _install_collection()


@pytest.fixture
def ansible_playbook(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess]:
    """``run(play, *args)``: ansible-playbook of the YAML text ``play`` on localhost (local
    connection, this checkout as ``idm_automation.cluster``), in ``tmp_path``."""
    playbook = shutil.which("ansible-playbook", path=str(Path(sys.executable).parent))
    if playbook is None:
        pytest.skip("ansible-playbook is not installed next to this Python")
    configured = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(
            filter(None, [str(COLLECTIONS_BASE), configured])
        ),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,  # modules run with this venv's Python
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
    }

    def run(play: str, *args: str) -> subprocess.CompletedProcess:
        (tmp_path / "play.yml").write_text(play)
        command = [playbook, "-i", "localhost,", "-c", "local", str(tmp_path / "play.yml"), *args]
        return subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False
        )

    return run
