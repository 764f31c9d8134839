"""Bad input: rotate_secrets.yml refuses before it touches any host.

Every IDM node is unreachable (ssh to port 1 on loopback), so a PLAY RECAP with ``unreachable=0``
and ``changed=0`` proves that the refusal came before any host was contacted. The baseline case
(valid new secrets) passes the input checks and fails only when it first reaches a node, so the
cases fail because of their defect, not because of the harness.

    ANSIBLE_COLLECTIONS_PATH=... .venv/bin/python -m pytest -q \
        tests/integration/test_rotate_inputs.py
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from installed_collection import ANSIBLE_PLAYBOOK, UNREACHABLE_HOST, find_collection

CURRENT = {"idm_repo_password": "repo-now", "idm_admin_password": "admin-now"}


def run(tmp_path: Path, extra: dict[str, str]) -> tuple[int, str]:
    """Run rotate_secrets.yml on two unreachable nodes with CURRENT and extra as extra vars."""
    collection, why = find_collection()
    if collection is None:
        pytest.skip(why)
    nodes = {name: dict(UNREACHABLE_HOST) for name in ("idm1", "idm2")}
    inventory = {
        "all": {
            "children": {"idm_nodes": {"hosts": nodes}},
            "vars": {"idm_repo_host": "db.invalid", "idm_keystore_password": "ks"},
        }
    }
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    (tmp_path / "vars.json").write_text(json.dumps({**CURRENT, **extra}))
    done = subprocess.run(
        [
            str(ANSIBLE_PLAYBOOK),
            "-i",
            str(tmp_path / "inventory.json"),
            "-e",
            f"@{tmp_path / 'vars.json'}",
            "idm_automation.cluster.rotate_secrets",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP counters per host."""
    rows = re.findall(r"^(idm\d)\s+:\s+(.*)$", output, re.MULTILINE)
    return {
        host: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)} for host, counts in rows
    }


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "nothing to rotate"),
        ({"idm_repo_password_new": "repo-now"}, "idm_repo_password_new equals idm_repo_password"),
        (
            {"idm_admin_password_new": "admin-now"},
            "idm_admin_password_new equals idm_admin_password",
        ),
        (
            {"idm_admin_password_new": "admin-next", "idm_keystore_password_new": "ks-next"},
            "does not rotate the keystore",
        ),
    ],
    ids=["nothing", "repo-same", "admin-same", "keystore"],
)
def test_refused_before_any_host_is_touched(
    tmp_path: Path, extra: dict[str, str], message: str
) -> None:
    rc, output = run(tmp_path, extra)
    assert rc != 0
    assert re.search(message, output), output[-3000:]
    counts = recap(output)
    assert set(counts) == {"idm1", "idm2"}, output[-3000:]
    for host, seen in counts.items():
        assert seen["unreachable"] == 0 and seen["changed"] == 0 and seen["failed"] == 1, (
            host,
            seen,
        )
    # The secrets never show, not even in the refusal.
    assert "repo-now" not in output and "admin-now" not in output


def test_valid_inputs_pass_the_checks_and_stop_at_the_first_node(tmp_path: Path) -> None:
    rc, output = run(
        tmp_path, {"idm_repo_password_new": "repo-next", "idm_admin_password_new": "admin-next"}
    )
    assert rc != 0
    assert "nothing to rotate" not in output and "equals" not in output
    counts = recap(output)
    assert any(seen["unreachable"] > 0 for seen in counts.values()), output[-3000:]
    for secret in ("repo-now", "admin-now", "repo-next", "admin-next"):
        assert secret not in output
