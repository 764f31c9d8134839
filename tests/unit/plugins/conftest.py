"""Make this checkout importable as ``ansible_collections.idm_automation.cluster``.

The plugins import their shared code by its collection path, as Ansible loads them. For the unit
tests a temporary directory holding ``ansible_collections/idm_automation/cluster`` (a symlink to
the repository root) is put first on ``sys.path``; ``ansible_collections`` is a namespace package,
so the collections bundled with the ``ansible`` package stay importable too. This directory is
also put on ``sys.path`` so that the tests can share the ``idm_cluster_factory`` helper whatever
pytest import mode is used.
"""

from __future__ import annotations

import atexit
import importlib
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
COLLECTION = "ansible_collections.idm_automation.cluster"


def _install_collection() -> None:
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


if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
_install_collection()
