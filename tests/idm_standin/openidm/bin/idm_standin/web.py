"""HTTP(S) listeners and REST endpoints of the IDM stand-in (test double).

One threading server per enabled ``conf/webserver.listener-*.json``. Secure listeners serve the
keystore certificate of their ``sslCertAlias``; ``mutualAuth`` listeners require a client
certificate trusted by the truststore. On TLS listeners a request whose Host header does not match
the certificate's subject CN or a SAN gets ``400``, like Jetty 12's SNI host check in IDM 8.
Every REST endpoint, the health endpoints included, needs credentials: the anonymous headers
(``X-OpenIDM-Username: anonymous``, ``X-OpenIDM-Password: anonymous``) for health and info, the
admin for the rest; without them the answer is ``401``. Every response carries ``X-IDM-Node-Id``.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import os
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg

from idm_standin import PRODUCT_VERSION, StandinError, configstore, metrics
from idm_standin.cluster import ClusterManager, api_view, list_states, read_state
from idm_standin.config import Listener, Paths
from idm_standin.log import LOGGER
from idm_standin.repo import Pool, RepoError
from idm_standin.security import KeyMaterial, certificate_names, host_matches
from idm_standin.state import NodeState
from idm_standin.users import hash_password, verify_password

NODE_HEADER = "X-IDM-Node-Id"
ADMIN = "openidm-admin"
MAX_BODY = 1 << 20


class HttpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"code": status, "reason": HTTPStatus(status).phrase, "message": message}


class App:
    """The REST resources; shared by every listener of the node."""

    def __init__(
        self,
        node: NodeState,
        paths: Paths,
        pool: Pool,
        typeid: int,
        cluster: ClusterManager,
    ):
        self.node = node
        self.paths = paths
        self.pool = pool
        self.typeid = typeid
        self.cluster = cluster
        self.config_typeid: int | None = None  # set by the server: openidm.configobjects type
        self.config_save = True  # felix.fileinstall.enableConfigSave
        self.metrics: metrics.MetricsConfig | None = None  # conf/metrics.json, set by the server

    # authentication ----------------------------------------------------------------------------
    def authenticate(self, headers) -> str | None:
        """Return "admin", "anonymous" or None (no credentials); raise 401 on bad ones."""
        user = headers.get("X-OpenIDM-Username")
        password = headers.get("X-OpenIDM-Password")
        if user is None:
            auth = headers.get("Authorization") or ""
            if auth[:6].lower() == "basic ":
                try:
                    decoded = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    raise HttpError(401, "Access Denied") from None
                user, _, password = decoded.partition(":")
        if user is None:
            return None
        if user == "anonymous" and password == "anonymous":
            return "anonymous"
        if user == ADMIN and password is not None:
            with self._db() as conn:
                row = conn.execute(
                    "SELECT pwd FROM openidm.internaluser WHERE objectid = %s", [ADMIN]
                ).fetchone()
            if row and verify_password(row[0], password):
                return "admin"
        raise HttpError(401, "Access Denied")

    def require(self, headers, admin: bool) -> str:
        who = self.authenticate(headers)
        if who is None:
            raise HttpError(401, "Access Denied")
        if admin and who != "admin":
            raise HttpError(403, "Access Denied")
        return who

    # routing -----------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict, headers, body: bytes):
        """Return (status, JSON-able body or (bytes, content type))."""
        path = path.rstrip("/") or "/"
        if method == "HEAD":  # as servlets do: a GET without the body
            method = "GET"
        if path in ("/openidm/health/live", "/openidm/health/ready", "/openidm/health"):
            self._only(method, "GET")
            self.require(headers, admin=False)
            status = self.node.status()
            ok = status.live if path.endswith("/live") else status.ready
            payload = {"state": status.state, "shortDesc": status.short_desc}
            return (200, payload) if ok else (503, error_body(503, status.short_desc))
        if path == "/openidm/info/ping":
            self._only(method, "GET")
            self.require(headers, admin=False)
            status = self.node.status()
            return 200, {
                "_id": "",
                "_rev": "",
                "shortDesc": status.short_desc,
                "state": status.state,
            }
        if path == "/openidm/info/version":
            self._only(method, "GET")
            self.require(headers, admin=False)
            return 200, {
                "_id": "version",
                "productVersion": PRODUCT_VERSION,
                "productBuildDate": "20250101000000",
                "productRevision": "test-double",
                "description": "IDM stand-in (test double)",
            }
        if path == "/openidm/metrics/prometheus":
            return self._prometheus(method, headers)
        if path == "/openidm/metrics/api":
            self._only(method, "GET")
            self.require(headers, admin=True)
            return self._metrics_api(query)
        if path == "/openidm/cluster/active":
            return self._activation(method, headers, body)
        if path == "/openidm/cluster":
            self._only(method, "GET")
            self.require(headers, admin=True)
            return self._cluster_query(query)
        if path.startswith("/openidm/cluster/"):
            self._only(method, "GET")
            self.require(headers, admin=True)
            instance_id = path[len("/openidm/cluster/") :]
            with self._db() as conn:
                obj = read_state(conn, self.typeid, instance_id)
            if obj is None:
                raise HttpError(404, f"Instance {instance_id} not found")
            return 200, api_view(obj)
        if path.startswith("/openidm/config/"):
            self.require(headers, admin=True)
            return self._config(method, path[len("/openidm/config/") :], body)
        if path == f"/openidm/internal/user/{ADMIN}":
            self._only(method, "PATCH")
            self.require(headers, admin=True)
            return self._change_password(body)
        if path == "/admin" or path.startswith("/admin/") or path == "/":
            self._only(method, "GET")
            return self._ui(path)
        raise HttpError(404, f"Resource '{path}' not found")

    def _prometheus(self, method: str, headers):
        """Behind the basic authentication filter of the Prometheus credentials, not the REST
        authentication: the admin and the anonymous headers are refused like no credentials."""
        self._only(method, "GET")
        config = self.metrics
        if config is None or not metrics.allowed(config, headers.get("Authorization")):
            raise HttpError(401, "Access Denied")
        if not config.enabled and config.disabled_variant == "notfound":
            raise HttpError(404, "Resource 'metrics/prometheus' not found")
        return 200, (metrics.prometheus_text(config).encode(), metrics.CONTENT_TYPE)

    def _metrics_api(self, query: dict) -> tuple[int, dict]:
        config = self.metrics
        if config is None or not config.enabled:
            raise HttpError(400, "metrics are not enabled (conf/metrics.json)")
        if (query.get("_queryFilter") or [None])[0] != "true":
            raise HttpError(400, "the IDM stand-in (test double) supports _queryFilter=true only")
        result = metrics.api_result(config)
        return 200, {"result": result, "resultCount": len(result)}

    @staticmethod
    def _only(method: str, allowed: str) -> None:
        if method != allowed:
            raise HttpError(405, f"Method {method} not supported on this resource")

    @contextmanager
    def _db(self) -> Iterator[psycopg.Connection]:
        try:
            with self.pool.connection() as conn:
                yield conn
        except (psycopg.Error, RepoError) as exc:
            raise HttpError(503, f"repository unavailable: {' '.join(str(exc).split())}") from None

    def _cluster_query(self, query: dict) -> tuple[int, dict]:
        query_filter = (query.get("_queryFilter") or [None])[0]
        query_id = (query.get("_queryId") or [None])[0]
        if query_filter is None and query_id is None:
            raise HttpError(400, "a query (_queryFilter=true or _queryId) is required")
        if query_filter is not None and query_filter.strip() != "true":
            raise HttpError(400, "the IDM stand-in (test double) supports _queryFilter=true only")
        if query_id not in (None, "query-cluster-instances", "query-cluster-failed-instances"):
            raise HttpError(400, f"unknown _queryId {query_id}")
        with self._db() as conn:
            states = list_states(conn, self.typeid)
        if query_id == "query-cluster-failed-instances":
            states = [s for s in states if s.get("state") != "running"]
        result = [api_view(s) for s in states]
        return 200, {
            "result": result,
            "resultCount": len(result),
            "pagedResultsCookie": None,
            "totalPagedResultsPolicy": "NONE",
            "totalPagedResults": -1,
            "remainingPagedResults": -1,
        }

    def _activation(self, method: str, headers, body: bytes) -> tuple[int, dict]:
        if method not in ("GET", "PUT"):
            raise HttpError(405, f"Method {method} not supported on this resource")
        self.require(headers, admin=True)
        if not self.node.active_passive:
            raise HttpError(
                404,
                "cluster active/passive mode is not enabled on this node (needs "
                "org.forgerock.feature.cluster.active.passive=true and "
                "org.forgerock.feature.cluster.improved=true in resolver/boot.properties)",
            )
        if method == "GET":
            return 200, {"state": self.node.activation}
        if_match = headers.get("If-Match")
        if if_match is None:
            raise HttpError(428, "If-Match: * is required to change the activation state")
        if if_match.strip() != "*":
            raise HttpError(412, "If-Match must be *")
        document = _json(body)
        state = document.get("state") if isinstance(document, dict) else None
        if state not in ("ACTIVE", "STANDBY"):
            raise HttpError(400, 'body must be {"state": "ACTIVE"} or {"state": "STANDBY"}')
        previous = self.node.activation
        self.node.set_activation(state)
        if previous != state:
            LOGGER.info("activation state changed from %s to %s over REST", previous, state)
            self.cluster.cycle()  # store it in the cluster row now
        return 200, {"state": state}

    def _config(self, method: str, pid: str, body: bytes) -> tuple[int, dict]:
        """``/openidm/config/<pid>``: stored in the repository; a PUT is written back to the
        object's ``conf/`` file on this node (contract row C6)."""
        if not configstore.PID.match(pid):
            raise HttpError(404, f"Resource 'config/{pid}' not found")
        if method not in ("GET", "PUT", "DELETE"):
            raise HttpError(405, f"Method {method} not supported on this resource")
        with self._db() as conn:
            if method == "GET":
                obj = configstore.read(conn, self.config_typeid, pid)
                if obj is None:
                    raise HttpError(404, f"Resource 'config/{pid}' not found")
                return 200, obj
            if method == "DELETE":
                obj = configstore.delete(conn, self.config_typeid, pid)
                if obj is None:
                    raise HttpError(404, f"Resource 'config/{pid}' not found")
                with suppress(FileNotFoundError):
                    configstore.config_file(self.paths, pid).unlink()
                LOGGER.info("configuration %s deleted over REST", pid)
                return 200, obj
            document = _json(body)
            if not isinstance(document, dict):
                raise HttpError(400, "the configuration must be a JSON object")
            existed = configstore.read(conn, self.config_typeid, pid) is not None
            rev = configstore.store(conn, self.config_typeid, pid, document)
        if self.config_save:
            written = configstore.write_back(self.paths, pid, document)
            LOGGER.info("configuration %s stored over REST and written to %s", pid, written)
        else:
            LOGGER.info("configuration %s stored over REST (write-back off)", pid)
        stored = dict(document, _id=pid, _rev=rev)
        return (200 if existed else 201), stored

    def _change_password(self, body: bytes) -> tuple[int, dict]:
        operations = _json(body)
        if not isinstance(operations, list) or not operations:
            raise HttpError(400, "a JSON patch (list of operations) is required")
        new_password = None
        for op in operations:
            if not isinstance(op, dict) or op.get("operation") not in ("replace", "add"):
                raise HttpError(400, "only replace/add operations are supported")
            if str(op.get("field", "")).lstrip("/") != "password":
                raise HttpError(400, "only the password field can be patched")
            value = op.get("value")
            if not isinstance(value, str) or not value:
                raise HttpError(400, "the new password must be a non-empty string")
            new_password = value
        with self._db() as conn:
            row = conn.execute(
                "UPDATE openidm.internaluser SET pwd = %s, rev = (rev::bigint + 1)::text"
                " WHERE objectid = %s RETURNING rev",
                [hash_password(new_password), ADMIN],
            ).fetchone()
        if row is None:
            raise HttpError(404, f"internal/user/{ADMIN} not found")
        LOGGER.info("password of internal/user/%s changed (revision %s)", ADMIN, row[0])
        return 200, {"_id": ADMIN, "_rev": row[0]}

    def _ui(self, path: str):
        if path == "/":
            relative, kind = "index.html", "enduser"
        else:
            relative, kind = path[len("/admin") :].lstrip("/") or "index.html", "admin"
        base = self.paths.instance / "ui" / kind
        for root in (base / "extension", base / "default"):
            candidate = (root / relative).resolve()
            if root.resolve() in candidate.parents and candidate.is_file():
                content_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
                return 200, (candidate.read_bytes(), content_type)
        raise HttpError(404, f"Resource '{path}' not found")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise HttpError(400, "the request body is not valid JSON") from None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "IDM-standin"
    timeout = 15

    server: ListenerServer

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # no access log, like openidm.log
        return

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0 or length > MAX_BODY:
                raise HttpError(413, "request body too large")
            body = self.rfile.read(length) if length else b""
            if self.server.cert_names is not None and not host_matches(
                self.headers.get("Host"), self.server.cert_names
            ):
                raise HttpError(
                    400,
                    f"Invalid SNI: host header {self.headers.get('Host')!r} does not match the "
                    f"certificate ({', '.join(self.server.cert_names)})",
                )
            status, payload = self.server.app.handle(
                method, url.path, parse_qs(url.query), self.headers, body
            )
        except HttpError as exc:
            status, payload = exc.status, error_body(exc.status, exc.message)
        except ValueError:
            status, payload = 400, error_body(400, "bad request")
        except Exception as exc:
            LOGGER.exception("request %s %s failed", method, url.path)
            status, payload = 500, error_body(500, f"internal error: {type(exc).__name__}")
        if isinstance(payload, tuple):
            data, content_type = payload
        else:
            data, content_type = json.dumps(payload).encode(), "application/json;charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header(NODE_HEADER, self.server.app.node.node_id)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if method != "HEAD":
            self.wfile.write(data)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")


class ListenerServer(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True  # server_close() lets in-flight requests finish
    allow_reuse_address = True

    def __init__(self, listener: Listener, app: App, context: ssl.SSLContext | None, names):
        self.listener = listener
        self.app = app
        self.ssl_context = context
        self.cert_names = names
        self._last_tls_warning = 0.0
        try:
            super().__init__(("0.0.0.0", listener.port), Handler)
        except OSError as exc:
            raise StandinError(
                f"cannot listen on port {listener.port} (conf/{listener.name}): {exc.strerror}"
            ) from None

    def finish_request(self, request, client_address) -> None:
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(Handler.timeout)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            request.close()
            quiet = isinstance(exc, (ssl.SSLEOFError, ConnectionResetError, TimeoutError))
            now = time.monotonic()
            if not quiet and now - self._last_tls_warning > 5:
                self._last_tls_warning = now
                LOGGER.warning(
                    "TLS handshake from %s on port %d refused: %s",
                    client_address[0],
                    self.listener.port,
                    exc,
                )
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            with suppress(OSError):
                tls.close()

    def handle_error(self, request, client_address) -> None:
        LOGGER.warning("connection from %s on port %d failed", client_address[0], self.server_port)


def tls_context(material: KeyMaterial, listener: Listener):
    """SSL context and certificate names for a secure listener."""
    entry = material.key_entry(listener.cert_alias)
    if entry is None:
        raise StandinError(
            f"keystore {material.keystore.path} has no key entry with alias "
            f"{listener.cert_alias!r} (sslCertAlias of conf/{listener.name}); it holds "
            f"{sorted(material.entries) or 'none'}"
        )
    key_pem, cert_pem = material.pem_for_alias(listener.cert_alias)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory(prefix="idm-standin-tls-") as tmp:
        cert_file, key_file = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert_file.write_bytes(cert_pem)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key_pem)
        context.load_cert_chain(cert_file, key_file)
    if listener.mutual_auth:
        trusted = material.trusted_pem()
        if not trusted:
            raise StandinError(f"truststore {material.truststore.path} holds no certificate")
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=trusted)
    return context, certificate_names(entry[1])


def serve(servers: list[ListenerServer]) -> list[threading.Thread]:
    threads = []
    for server in servers:
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name=f"listener-{server.listener.port}",
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    return threads
