"""fetch_logs.yml on this machine: two "nodes" reached with the local connection, each with a log
directory of its own (rolled files, a file over the byte bound, and a secret-holding file that must
never be fetched) and a journalctl stand-in on PATH that records its arguments. Proves the layout
<dest>/<inventory_hostname>/..., the bounds, --limit, and that check mode writes nothing. The
scenario step (molecule/invariants/verify-logs.yml) runs it against real nodes and journald."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from installed_collection import ANSIBLE_PLAYBOOK, find_collection

COLLECTION, NOT_INSTALLED = find_collection()
pytestmark = pytest.mark.skipif(COLLECTION is None, reason=NOT_INSTALLED)

JOURNALCTL = """#!/bin/sh
echo "journal of $* on $(hostname)"
echo "OpenIDM ready"
"""


@pytest.fixture
def nodes(tmp_path: Path) -> dict:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "journalctl").write_text(JOURNALCTL)
    (bindir / "journalctl").chmod(0o755)
    hosts = {}
    for name in ("node-a", "node-b"):
        logs = tmp_path / name / "logs"
        logs.mkdir(parents=True)
        for age, file in enumerate(
            ["openidm.log", "openidm.1.log", "openidm.2.log", "openidm.3.log"]
        ):
            (logs / file).write_text(f"{name} {file}\n" * 10)
            stamp = time.time() - 60 * age  # openidm.log newest
            os.utime(logs / file, (stamp, stamp))
        (logs / "openidm-big.log").write_text("x" * 5000)
        os.utime(logs / "openidm-big.log", (time.time() - 30, time.time() - 30))
        (logs / "keystore.jceks").write_text("secret key material")
        (logs / "openidm.log.lck").write_text("")
        hosts[name] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "ansible_become": False,
            "idm_log_dir": str(logs),
        }
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"idm_nodes": {"hosts": hosts}}}}))
    return {"inventory": inventory, "bindir": bindir, "dest": tmp_path / "fetched"}


def run(nodes: dict, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{nodes['bindir']}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [
            str(ANSIBLE_PLAYBOOK),
            "-i",
            str(nodes["inventory"]),
            "idm_automation.cluster.fetch_logs",
            "-e",
            f"idm_fetch_logs_dest={nodes['dest']}",
            "-e",
            "idm_fetch_logs_max_file_bytes=4096",
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def files(dest: Path) -> list[str]:
    return sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())


def test_check_mode_writes_nothing(nodes):
    result = run(nodes, "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not nodes["dest"].exists()


def test_every_node_in_its_folder_bounded_without_secrets(nodes):
    result = run(nodes, "-e", "idm_fetch_logs_max_files=4", "-e", "idm_fetch_logs_since=-2h")
    assert result.returncode == 0, result.stdout + result.stderr
    dest = nodes["dest"]
    for name in ("node-a", "node-b"):
        # the four newest openidm*.log* files but the one over the byte bound; nothing else
        assert [f for f in files(dest) if f.startswith(name)] == [
            f"{name}/journal.log",
            f"{name}/logs/openidm.1.log",
            f"{name}/logs/openidm.2.log",
            f"{name}/logs/openidm.log",
            f"{name}/summary.json",
        ]
        summary = json.loads((dest / name / "summary.json").read_text())
        assert summary["host"] == name
        assert summary["not_fetched_too_big"] == [str(Path(summary["log_dir"]) / "openidm-big.log")]
        assert summary["found"] == 5  # the lock file and the keystore are not candidates
        journal = (dest / name / "journal.log").read_text()
        assert "--unit=openidm --since=-2h --lines=5000 --no-pager --output=short-iso" in journal
        assert (dest / name / "logs" / "openidm.log").read_text().startswith(f"{name} openidm.log")
        assert oct((dest / name).stat().st_mode & 0o777) == "0o700"
    assert "secret key material" not in "".join(
        p.read_text() for p in dest.rglob("*") if p.is_file()
    )


def test_limit_and_file_count(nodes):
    result = run(nodes, "--limit", "node-b", "-e", "idm_fetch_logs_max_files=2")
    assert result.returncode == 0, result.stdout + result.stderr
    # the two newest are openidm.log and openidm-big.log, which is over the byte bound
    assert files(nodes["dest"]) == [
        "node-b/journal.log",
        "node-b/logs/openidm.log",
        "node-b/summary.json",
    ]


def test_a_relative_destination_is_refused_before_anything_is_read(nodes):
    result = run(nodes, "-e", "idm_fetch_logs_dest=relative/dir")
    assert result.returncode != 0
    assert "idm_fetch_logs_dest must be an absolute controller path" in result.stdout
    assert "Find the server log files" not in result.stdout
