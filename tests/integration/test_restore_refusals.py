"""restore.yml refuses a damaged backup and a backup of another cluster before it contacts a node.

Every node is unreachable on purpose (``UNREACHABLE_HOST``): a recap with ``unreachable=0`` and
``changed=0`` proves that the refusal came first. The baseline runs the same harness with a backup
of this cluster and shows the opposite: it passes every check that needs no node and only then
fails, unreachable, at the first task that reads a node.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from installed_collection import ANSIBLE_PLAYBOOK, BASE_ENV, UNREACHABLE_HOST, find_collection

COLLECTION, WHY_NOT = find_collection()
pytestmark = pytest.mark.skipif(COLLECTION is None, reason=WHY_NOT)

NODES = ["idm1", "idm2"]
SECRETS = {
    "idm_repo_password": "RepoPw-b4ck-do-not-print",
    "idm_keystore_password": "KsPw-b4ck-do-not-print",
}
FILES = [
    "repository.pgc",
    "keystore",
    "truststore",
    "secrets.json",
    "boot.properties",
    "conf.tar.gz",
]
RECAP = re.compile(
    r"^(?P<host>\S+)\s+: ok=\d+\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)", re.M
)


def write_backup(path: Path, node_ids: list[str]) -> Path:
    """A backup directory as backup.yml writes it (files with made-up content, true checksums)."""
    path.mkdir(mode=0o700)
    sums = {}
    for name in FILES:
        (path / name).write_bytes(f"content of {name}\n".encode())
        sums[name] = hashlib.sha256((path / name).read_bytes()).hexdigest()
    manifest = {
        "format": 1,
        "created": "2026-12-03T12:00:00Z",
        "cluster": {
            "nodes": NODES,
            "node_ids": node_ids,
            "bootstrap_node": NODES[0],
            "bootstrap_node_id": node_ids[0],
        },
        "product": {"version": "8.1.0"},
        "repository": {
            "host": "127.0.0.1",
            "port": 5432,
            "database": "openidm",
            "schema": "openidm",
        },
        "files": sums,
    }
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    sums["manifest.json"] = hashlib.sha256((path / "manifest.json").read_bytes()).hexdigest()
    (path / "SHA256SUMS").write_text("".join(f"{v}  {k}\n" for k, v in sums.items()))
    return path


def run_restore(workdir: Path, backup: Path) -> subprocess.CompletedProcess:
    inventory = {
        "all": {
            "vars": {**UNREACHABLE_HOST, "idm_repo_host": "127.0.0.1", **SECRETS},
            "children": {"idm_nodes": {"hosts": {n: {} for n in NODES}}},
        }
    }
    (workdir / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (workdir / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = False\n")
    env = {
        **BASE_ENV,
        "ANSIBLE_CONFIG": str(workdir / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "default",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(workdir / "cp"),
    }
    return subprocess.run(
        [
            str(ANSIBLE_PLAYBOOK),
            "-i",
            "inventory.yml",
            "idm_automation.cluster.restore",
            "-e",
            f"idm_restore_dir={backup}",
        ],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def recap(proc: subprocess.CompletedProcess) -> dict[str, tuple[int, int]]:
    return {
        m["host"]: (int(m["changed"]), int(m["unreachable"])) for m in RECAP.finditer(proc.stdout)
    }


def assert_refused_untouched(proc: subprocess.CompletedProcess, *phrases: str) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    for phrase in phrases:
        assert phrase in out, out
    assert "UNREACHABLE!" not in out, out
    assert all(v == (0, 0) for v in recap(proc).values()) and recap(proc), out
    assert not [s for s in SECRETS.values() if s in out]


def test_a_backup_of_another_cluster_is_refused(tmp_path: Path) -> None:
    backup = write_backup(tmp_path / "foreign", ["other1", "other2"])
    proc = run_restore(tmp_path, backup)
    assert_refused_untouched(
        proc,
        "the backup is of another cluster",
        "other1, other2",
        "idm1, idm2",
        "Nothing was changed",
    )


def test_a_changed_file_is_refused(tmp_path: Path) -> None:
    backup = write_backup(tmp_path / "damaged", NODES)
    (backup / "keystore").write_bytes(b"not the keystore\n")
    proc = run_restore(tmp_path, backup)
    assert_refused_untouched(proc, "keystore does not have the sha256 the manifest recorded")


def test_a_directory_without_a_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = run_restore(tmp_path, tmp_path / "empty")
    assert_refused_untouched(proc, "holds no manifest.json and SHA256SUMS")


def test_baseline_a_backup_of_this_cluster_passes_to_the_nodes(tmp_path: Path) -> None:
    backup = write_backup(tmp_path / "ours", NODES)
    proc = run_restore(tmp_path, backup)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "cannot be restored onto this cluster" not in out, out
    assert "UNREACHABLE!" in out and "Read which release each node has installed" in out, out
