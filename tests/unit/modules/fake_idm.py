"""A tiny local HTTP server that answers like the IDM REST endpoints the modules use.

Cheaper than a stand-in node where a test needs an exact answer: a scripted status for the first
requests (``fail_first``), a cluster table in either C9 shape, a password to check. Like IDM (and
the stand-in), admin resources want the admin user (HTTP Basic or the X-OpenIDM headers; 401
without or with a wrong password, 403 for anonymous), health wants the anonymous headers.
Every request is recorded (method, path, headers with lower-case names, JSON body).
"""

from __future__ import annotations

import base64
import http.server
import json
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any

ADMIN = "openidm-admin"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeIdm:
    password: str = "openidm-admin"
    instances: list[dict[str, Any]] = field(default_factory=list)
    activation: str | None = "STANDBY"  # None: active/passive off (404)
    fail_first: int = 0  # answer fail_status to the first requests
    fail_status: int = 503
    certfile: str | None = None  # PEM with key and certificate: serve HTTPS
    requests: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                seen = Seen(
                    method,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    json.loads(raw) if raw else None,
                )
                with outer._lock:
                    outer.requests.append(seen)
                    count = len(outer.requests)
                if count <= outer.fail_first:
                    status, body = outer.fail_status, {"code": outer.fail_status, "message": "no"}
                else:
                    status, body = outer.route(seen)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_PUT(self) -> None:
                self._answer("PUT")

            def do_PATCH(self) -> None:
                self._answer("PATCH")

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if self.certfile:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.certfile)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # IDM's answers ---------------------------------------------------------------------------
    def who(self, headers: dict[str, str]) -> str | None:
        user, password = headers.get("x-openidm-username"), headers.get("x-openidm-password")
        auth = headers.get("authorization", "")
        if user is None and auth.lower().startswith("basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        if user == "anonymous" and password == "anonymous":
            return "anonymous"
        if user == ADMIN and password == self.password:
            return "admin"
        return None

    def route(self, seen: Seen) -> tuple[int, Any]:
        who = self.who(seen.headers)
        path = seen.path
        if path.startswith("/openidm/health/"):
            return (200, {"state": "ACTIVE_READY"}) if who else (401, {"message": "Access Denied"})
        if who is None:
            return 401, {"code": 401, "message": "Access Denied"}
        if who != "admin":
            return 403, {"code": 403, "message": "Access Denied"}
        if path == "/openidm/cluster?_queryFilter=true":
            return 200, {"result": self.instances, "resultCount": len(self.instances)}
        if path == "/openidm/cluster/active":
            if self.activation is None:
                return 404, {"code": 404, "message": "active/passive mode is not enabled"}
            if seen.method == "PUT":
                if seen.headers.get("if-match") != "*":
                    return 428, {"code": 428, "message": "If-Match required"}
                self.activation = seen.body["state"]
            return 200, {"state": self.activation}
        if path.startswith("/openidm/cluster/"):
            wanted = path.rsplit("/", 1)[1]
            for item in self.instances:
                if item.get("instanceId") == wanted:
                    return 200, item
            return 404, {"code": 404, "message": f"Instance {wanted} not found"}
        if path == f"/openidm/internal/user/{ADMIN}" and seen.method == "PATCH":
            self.password = seen.body[0]["value"]
            return 200, {"_id": ADMIN, "_rev": "2"}
        return 404, {"code": 404, "message": "not found"}

    def of(self, method: str, prefix: str = "") -> list[Seen]:
        return [s for s in self.requests if s.method == method and s.path.startswith(prefix)]
