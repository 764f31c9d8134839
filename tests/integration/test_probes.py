"""The cluster-membership probe (roles/idm/tasks/restart/wait_member.yml) against a local server.

IDM needs credentials on every REST endpoint (contract row C8). Before the start phase has set the
admin password, the configured one gets 401: the probe must take that as an answer and explain
it, not fail the task (``status_code`` once sat under ``vars:``, where the uri module never saw
it, so a 401 failed the run before the explanation). The playbook runs on the controller against
a server on loopback; nothing else is contacted.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from installed_collection import ANSIBLE_PLAYBOOK, find_collection

COLLECTION, NOT_INSTALLED = find_collection()
pytestmark = pytest.mark.skipif(COLLECTION is None, reason=NOT_INSTALLED)


class ClusterServer:
    """Answers GET /openidm/cluster/<id> with a fixed status and body; records request headers."""

    def __init__(self, status: int, body: dict) -> None:
        self.status = status
        self.body = json.dumps(body).encode()
        self.requests: list[dict[str, str]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def cluster_server() -> Iterator:
    servers: list[ClusterServer] = []

    def start(status: int, body: dict) -> ClusterServer:
        servers.append(ClusterServer(status, body))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def run_wait_member(tmp_path: Path, url: str) -> subprocess.CompletedProcess:
    playbook = [
        {
            "name": "wait_member against a local server",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars": {
                "idm_admin_password": "not-yet-set",
                "idm_ready_timeout": 4,
                "__idm_member_host": "localhost",
                # The node probes itself on its first plain-HTTP listener: the local server.
                "idm_port_http": int(url.rsplit(":", 1)[1]),
                "idm_node_id": "node1",
            },
            "tasks": [
                {
                    "name": "Wait for membership",
                    "ansible.builtin.include_role": {
                        "name": "idm_automation.cluster.idm",
                        "tasks_from": "restart/wait_member.yml",
                    },
                },
            ],
        }
    ]
    path = tmp_path / "wait_member.yml"
    path.write_text(yaml.safe_dump(playbook, sort_keys=False))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
    return subprocess.run(
        [
            str(ANSIBLE_PLAYBOOK),
            "-i",
            "localhost,",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            str(path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_wait_member_explains_401_instead_of_failing(tmp_path, cluster_server):
    server = cluster_server(
        401, {"code": 401, "reason": "Unauthorized", "message": "Access Denied"}
    )
    run = run_wait_member(tmp_path, server.url)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "is not (yet) accepted by the cluster" in run.stdout
    assert len(server.requests) == 1  # an answer: not retried until the timeout


def test_wait_member_accepts_a_running_node(tmp_path, cluster_server):
    server = cluster_server(200, {"_id": "node1", "instanceId": "node1", "state": "running"})
    run = run_wait_member(tmp_path, server.url)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "is not (yet) accepted" not in run.stdout
    assert server.requests[0].get("x-openidm-nosession") == "true"
