"""wait_ready against a real HTTP server on 127.0.0.1: waits through 503s, fails at the timeout
with the node's last log lines, reports instead of waiting in check mode, and fails fast when
the systemd unit dies. The module runs as its own process (see conftest.py)."""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest


class ReadinessServer:
    """Answers /openidm/health/ready with 503 for the first ``not_ready`` probes, then 200
    (``not_ready=None``: always 503). Like IDM (contract row C8), a probe without the anonymous
    credentials gets 401. Counts the probes and keeps the headers of the last one."""

    def __init__(self, not_ready: int | None) -> None:
        self.not_ready = not_ready
        self.probes = 0
        self.headers: Any = {}
        lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with lock:
                    outer.probes += 1
                    count = outer.probes
                    outer.headers = self.headers  # case-insensitive, as HTTP header names are
                ready = outer.not_ready is not None and count > outer.not_ready
                body = b'{"state": "ACTIVE_READY"}' if ready else b'{"state": "STARTING"}'
                status = 200 if ready else 503
                if (
                    self.headers.get("X-OpenIDM-Username") != "anonymous"
                    or self.headers.get("X-OpenIDM-Password") != "anonymous"
                ):
                    status, body = 401, b'{"code": 401, "message": "Access Denied"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/openidm/health/ready"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    servers: list[ReadinessServer] = []

    def start(not_ready: int | None) -> ReadinessServer:
        servers.append(ReadinessServer(not_ready))
        return servers[-1]

    yield start
    for one in servers:
        one.close()


@pytest.fixture
def log_file(tmp_path) -> Path:
    path = tmp_path / "openidm0.log.0"
    path.write_text("".join(f"log line {n}\n" for n in range(1, 101)))
    return path


def test_waits_through_503_until_ready(run_module, server):
    node = server(not_ready=3)
    result = run_module("wait_ready", {"url": node.url, "timeout": 30, "interval": 0.2})
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["status"] == 200
    assert node.probes == 4  # three 503s, then the 200
    assert isinstance(result["elapsed"], float)
    assert result["elapsed"] >= 0.5  # three intervals of 0.2 s were waited


def test_c8_probes_send_the_anonymous_headers(run_module, server):
    node = server(not_ready=0)
    result = run_module("wait_ready", {"url": node.url, "timeout": 10})
    assert not result.get("failed"), result
    assert result["status"] == 200
    assert node.headers["X-OpenIDM-Username"] == "anonymous"
    assert node.headers["X-OpenIDM-Password"] == "anonymous"
    assert node.headers["X-OpenIDM-NoSession"] == "true"


def test_c8_a_401_is_explained(run_module, server):
    node = server(not_ready=0)
    result = run_module(
        "wait_ready",
        {"url": node.url, "timeout": 1, "interval": 0.2, "headers": {"X-OpenIDM-Password": "x"}},
    )
    assert result.get("failed") is True, result
    assert result["status"] == 401
    assert "anonymous headers" in result["msg"]
    assert node.headers["X-OpenIDM-Password"] == "x"  # given headers replace the anonymous ones


def test_times_out_with_the_last_log_lines(run_module, server, log_file):
    node = server(not_ready=None)
    started = time.monotonic()
    result = run_module(
        "wait_ready",
        {"url": node.url, "timeout": 2, "interval": 0.2, "log_file": str(log_file), "log_lines": 5},
    )
    assert result.get("failed") is True, result
    assert "not ready after 2s" in result["msg"]
    assert "503" in result["msg"]  # the last answer
    assert node.url in result["msg"]
    assert result["status"] == 503
    assert result["log_tail"] == [f"{log_file}: log line {n}" for n in range(96, 101)]
    assert 2 <= result["elapsed"] < 15
    assert time.monotonic() - started < 30
    assert node.probes >= 2


def test_an_unreadable_log_file_is_reported_not_fatal(run_module, server, tmp_path):
    node = server(not_ready=None)
    missing = tmp_path / "no-such.log"
    result = run_module(
        "wait_ready", {"url": node.url, "timeout": 0, "interval": 0.1, "log_file": str(missing)}
    )
    assert result.get("failed") is True, result
    assert result["log_tail"] == [f"{missing}: not readable (No such file or directory)"]


def test_nothing_listening_is_status_minus_one(run_module):
    result = run_module(
        "wait_ready", {"url": "http://127.0.0.1:1/openidm/health/ready", "timeout": 1}
    )
    assert result.get("failed") is True, result
    assert result["status"] == -1
    assert "not ready after 1s" in result["msg"]


def test_check_mode_reports_instead_of_waiting(run_module, server):
    node = server(not_ready=None)
    started = time.monotonic()
    result = run_module(
        "wait_ready", {"url": node.url, "timeout": 60, "interval": 0.2}, check_mode=True
    )
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert "would wait" in result["msg"]
    assert result["status"] == 503
    assert node.probes == 1  # one probe, no waiting
    assert time.monotonic() - started < 30


def test_check_mode_on_a_ready_node(run_module, server):
    node = server(not_ready=0)
    result = run_module("wait_ready", {"url": node.url, "timeout": 60}, check_mode=True)
    assert not result.get("failed"), result
    assert result["status"] == 200
    assert "msg" not in result or "would wait" not in result["msg"]


def _systemctl_usable() -> bool:
    if shutil.which("systemctl") is None:
        return False
    state = subprocess.run(
        ["systemctl", "is-system-running"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return state in ("running", "degraded", "starting", "maintenance")


@pytest.mark.skipif(
    not _systemctl_usable(),
    reason="systemctl is not usable here (no systemd as PID 1: `systemctl is-system-running` "
    "does not answer running/degraded); the unit path is covered with a stand-in systemctl below",
)
def test_a_unit_that_is_not_running_ends_the_wait_at_once_real_systemd(
    run_module, server, log_file
):
    node = server(not_ready=None)
    unit = "idm-automation-no-such-unit.service"
    started = time.monotonic()
    result = run_module(
        "wait_ready",
        {"url": node.url, "unit": unit, "timeout": 60, "interval": 0.2, "log_file": str(log_file)},
    )
    assert result.get("failed") is True, result
    assert f"the service {unit} is inactive" in result["msg"]
    assert time.monotonic() - started < 30
    assert any(line.startswith(f"{log_file}: ") for line in result["log_tail"])


@pytest.fixture
def fake_systemd(tmp_path):
    """``systemctl`` and ``journalctl`` stand-ins first on PATH: the unit is ``active`` for
    ``active_probes`` probes, then ``failed``; the journal has three lines."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    counter = tmp_path / "probes"
    counter.write_text("0")

    def make(active_probes: int) -> dict[str, str]:
        (bindir / "systemctl").write_text(
            "#!/bin/sh\n"
            f'n=$(($(cat "{counter}") + 1)); echo "$n" > "{counter}"\n'
            f'if [ "$n" -le {active_probes} ]; then echo activating; else echo failed; fi\n'
        )
        (bindir / "journalctl").write_text(
            "#!/bin/sh\n"
            'echo "Starting openidm..."\n'
            'echo "java.net.BindException: Address already in use"\n'
            'echo "openidm.service: Failed with result exit-code."\n'
        )
        for tool in ("systemctl", "journalctl"):
            (bindir / tool).chmod(0o755)
        return {"PATH": f"{bindir}:/usr/bin:/bin"}

    return make


def test_a_unit_that_fails_ends_the_wait_at_once_with_its_journal(
    run_module, server, log_file, fake_systemd
):
    node = server(not_ready=None)
    started = time.monotonic()
    result = run_module(
        "wait_ready",
        {
            "url": node.url,
            "unit": "openidm.service",
            "timeout": 60,
            "interval": 0.2,
            "log_file": str(log_file),
            "log_lines": 2,
        },
        env=fake_systemd(active_probes=2),
    )
    assert result.get("failed") is True, result
    assert "the service openidm.service is failed" in result["msg"]
    assert "stopped while starting" in result["msg"]
    assert result["unit_state"] == "failed"
    assert time.monotonic() - started < 30  # not the 60 s timeout
    assert node.probes == 3
    assert result["log_tail"] == [
        f"{log_file}: log line 99",
        f"{log_file}: log line 100",
        "journal: Starting openidm...",
        "journal: java.net.BindException: Address already in use",
        "journal: openidm.service: Failed with result exit-code.",
    ]


def test_an_activating_unit_is_waited_for(run_module, server, fake_systemd):
    node = server(not_ready=2)
    result = run_module(
        "wait_ready",
        {"url": node.url, "unit": "openidm.service", "timeout": 30, "interval": 0.2},
        env=fake_systemd(active_probes=100),
    )
    assert not result.get("failed"), result
    assert result["status"] == 200
    assert node.probes == 3


def test_secrets_are_masked_in_the_log_tail_and_the_message(run_module, server, tmp_path):
    """The journal and log lines returned on failure hold no secret given in ``secrets``, neither
    as it is nor JSON-escaped (as IDM's JSON log lines write it); the other text is kept."""
    node = server(not_ready=None)
    plain, tricky = "keystore-Pw-4711", 'repo"pw\\with-escapes'
    escaped = json.dumps(tricky)[1:-1]  # repo\"pw\\with-escapes
    log = tmp_path / "openidm0.log.0"
    log.write_text(
        f"SEVERE: cannot open keystore with password {plain}\n"
        f'{{"message": "login failed for password {escaped}"}}\n'
    )
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "systemctl").write_text("#!/bin/sh\necho failed\n")
    (bindir / "journalctl").write_text(
        f"#!/bin/sh\necho 'OPENIDM_OPTS=-Dopenidm.keystore.password={plain} -Xmx512m'\n"
    )
    for tool in ("systemctl", "journalctl"):
        (bindir / tool).chmod(0o755)
    result = run_module(
        "wait_ready",
        {
            "url": node.url,
            "unit": "openidm.service",
            "timeout": 30,
            "interval": 0.2,
            "log_file": str(log),
            "secrets": [plain, tricky, ""],
        },
        env={"PATH": f"{bindir}:/usr/bin:/bin"},
    )
    assert result.get("failed") is True, result
    output = result["_stdout"] + result["_stderr"]
    for form in (plain, tricky, escaped):
        assert form not in output
    assert result["log_tail"] == [
        f"{log}: SEVERE: cannot open keystore with password ********",
        f'{log}: {{"message": "login failed for password ********"}}',
        "journal: OPENIDM_OPTS=-Dopenidm.keystore.password=******** -Xmx512m",
    ]


def test_secrets_are_masked_in_the_last_answer(run_module, tmp_path):
    """The readiness answer quoted in the message is masked too."""
    secret = "admin-Secret-0815"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f'{{"error": "bad credentials {secret}"}}'.encode()
            self.send_response(503)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/openidm/health/ready"
        result = run_module("wait_ready", {"url": url, "timeout": 0, "secrets": [secret]})
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.get("failed") is True, result
    assert secret not in result["_stdout"]
    assert "bad credentials ********" in result["msg"]
