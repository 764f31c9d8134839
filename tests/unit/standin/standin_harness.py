"""Test harness for the IDM stand-in (test double): a throwaway PostgreSQL and stand-in nodes.

``PostgresServer`` runs a real PostgreSQL from the local binaries in a temporary directory
(as user ``postgres`` or ``nobody`` when the tests run as root, since initdb refuses root).
``Node`` is one stand-in installation unpacked from the built zip and started with its own
``startup.sh`` as a real subprocess.
"""

from __future__ import annotations

import base64
import contextlib
import glob
import http.client
import json
import os
import pwd
import queue
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

REPO_ROOT = Path(__file__).resolve().parents[3]
STANDIN_SRC = REPO_ROOT / "tests" / "idm_standin"
DEFAULT_VERSION = "8.1.0"
# The product versions the build ships (tests/idm_standin/build --version).
VERSIONS = ("8.0.0", "8.1.0", "8.1.1")
ZIP_NAME = f"openidm-standin-{DEFAULT_VERSION}.zip"
ADMIN_PASSWORD = "openidm-admin"
FAST_CLUSTER = {
    "instanceId": "&{openidm.node.id}",
    "instanceTimeout": 1000,
    "instanceRecoveryTimeout": 1000,
    "instanceCheckInInterval": 200,
    "instanceCheckInOffset": 0,
    "enabled": True,
}


def wait_for(predicate, timeout: float, what: str, interval: float = 0.05):
    """Poll ``predicate`` until it returns a truthy value; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")
        time.sleep(interval)


_used_ports: set[int] = set()


def free_port() -> int:
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _used_ports:
            _used_ports.add(port)
            return port
    raise RuntimeError("no free port")


def find_pg_bindir() -> Path | None:
    initdb = shutil.which("initdb")
    candidates = [Path(initdb).resolve().parent] if initdb else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


class PostgresServer:
    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.base = Path(tempfile.mkdtemp(prefix="idm-standin-pg-"))
        self.data = self.base / "data"
        self.sock = self.base / "sock"
        self.port = free_port()
        self.prefix: list[str] = []
        self._db_counter = 0
        self._lock = threading.Lock()
        self._admin: psycopg.Connection | None = None
        # Databases with the schema are prepared one ahead, while the previous test runs.
        self._prepared: queue.Queue[str | BaseException] = queue.Queue(maxsize=1)
        self._stopping = threading.Event()
        self._preparer: threading.Thread | None = None

    def _run(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.prefix, *args], check=True, capture_output=True, text=True, **kwargs
        )

    def start(self) -> None:
        self.sock.mkdir()
        if os.geteuid() == 0:
            user = "postgres"
            try:
                entry = pwd.getpwnam(user)
            except KeyError:
                user, entry = "nobody", pwd.getpwnam("nobody")
            for path in (self.base, self.sock):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            self.prefix = ["runuser", "-u", user, "--"]
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.sock} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=300"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.base / "postgres.log"),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self) -> None:
        self._stopping.set()
        if self._preparer is not None:
            with contextlib.suppress(queue.Empty):
                self._prepared.get_nowait()  # unblock a pending put
            self._preparer.join(timeout=30)
        if self._admin is not None:
            self._admin.close()
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        # Hundreds of MB in many small files: removed in the background, not on the clock.
        subprocess.Popen(
            ["rm", "-rf", str(self.base)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _connect_admin(self) -> psycopg.Connection:
        return psycopg.connect(
            host=str(self.sock), port=self.port, user="postgres", dbname="postgres",
            autocommit=True,
        )  # fmt: skip

    @property
    def admin(self) -> psycopg.Connection:
        if self._admin is None or self._admin.closed:
            self._admin = self._connect_admin()
        return self._admin

    def psql(self, sql_file: Path, dbname: str, user: str = "openidm", password: str = "openidm"):
        """Run a script the way an operator does (psql, stop at the first error)."""
        if user == "postgres":
            target = ["-h", str(self.sock), "-p", str(self.port), "-U", "postgres"]
        else:
            target = ["-h", "127.0.0.1", "-p", str(self.port), "-U", user]
        return subprocess.run(
            [str(self.bindir / "psql"), *target, "-d", dbname, "-v", "ON_ERROR_STOP=1", "-q",
             "-X", "-f", str(sql_file)],
            capture_output=True, text=True, env={**os.environ, "PGPASSWORD": password},
            check=False,
        )  # fmt: skip

    def _new_database(self, admin: psycopg.Connection, scripts: Path | None) -> str:
        """A fresh database, prepared like createuser.pgsql prepares ``openidm``; with
        ``scripts``, openidm.pgsql is run once in it as the repository user."""
        with self._lock:
            self._db_counter += 1
            name = f"standin_{os.getpid()}_{self._db_counter}"
        admin.execute(f"CREATE DATABASE {name} ENCODING 'utf8' STRATEGY FILE_COPY")
        admin.execute(f"GRANT ALL PRIVILEGES ON DATABASE {name} TO openidm")
        if scripts is not None:
            result = self.psql(scripts / "openidm.pgsql", name)
            if result.returncode != 0:
                raise RuntimeError(f"openidm.pgsql failed in {name}: {result.stderr}")
        return name

    def _prepare_databases(self, scripts: Path) -> None:
        try:
            admin = self._connect_admin()
        except psycopg.Error as exc:
            self._prepared.put(exc)
            return
        with admin:
            while not self._stopping.is_set():
                try:
                    item: str | BaseException = self._new_database(admin, scripts)
                except (psycopg.Error, RuntimeError) as exc:
                    item = exc
                while not self._stopping.is_set():
                    try:
                        self._prepared.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue

    def create_database(self, scripts: Path | None) -> str:
        """A fresh database for one test (with the IDM schema when ``scripts`` is given)."""
        if scripts is None:
            return self._new_database(self.admin, None)
        if self._preparer is None:
            self._preparer = threading.Thread(
                target=self._prepare_databases, args=(scripts,), daemon=True
            )
            self._preparer.start()
        item = self._prepared.get(timeout=60)
        if isinstance(item, BaseException):
            raise item
        return item

    def query(self, dbname: str, sql: str, params: Any = None) -> list[tuple]:
        with psycopg.connect(
            host=str(self.sock), port=self.port, user="postgres", dbname=dbname, autocommit=True
        ) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []


def zip_name(version: str = DEFAULT_VERSION) -> str:
    return f"openidm-standin-{version}.zip"


def build_zip(outdir: Path, version: str | None = None) -> Path:
    """Build the distribution into ``outdir`` (``--version`` only when ``version`` is given)."""
    command = [str(STANDIN_SRC / "build"), str(outdir)]
    if version is not None:
        command += ["--version", version]
    subprocess.run(command, check=True, capture_output=True)
    return outdir / zip_name(version or DEFAULT_VERSION)


def extract(zip_path: Path, target: Path) -> Path:
    """Unpack like ``unzip`` does, keeping the permission bits stored in the archive."""
    with zipfile.ZipFile(zip_path) as archive:
        for item in archive.infolist():
            path = archive.extract(item, target)
            mode = (item.external_attr >> 16) & 0o7777
            if mode:
                os.chmod(path, mode)
    return target / "openidm"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def auth_headers(auth) -> dict[str, str]:
    if auth is None:
        return {}
    if auth == "admin":
        auth = ("openidm-admin", ADMIN_PASSWORD)
    elif auth == "anonymous":
        auth = ("anonymous", "anonymous")
    if auth[0] == "basic":
        token = base64.b64encode(f"{auth[1]}:{auth[2]}".encode()).decode()
        return {"Authorization": f"Basic {token}"}
    return {"X-OpenIDM-Username": auth[0], "X-OpenIDM-Password": auth[1]}


def request(
    port: int,
    method: str,
    path: str,
    *,
    auth=None,
    headers: dict[str, str] | None = None,
    body: Any = None,
    tls: ssl.SSLContext | None = None,
    timeout: float = 5.0,
) -> Response:
    all_headers = {**auth_headers(auth), **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    if tls is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=tls)
    try:
        if "Host" in all_headers and all_headers["Host"] is None:
            # No Host header at all.
            all_headers.pop("Host")
            conn.putrequest(method, path, skip_host=True)
            for key, value in all_headers.items():
                conn.putheader(key, value)
            conn.endheaders(data)
        else:
            conn.request(method, path, body=data, headers=all_headers)
        reply = conn.getresponse()
        return Response(reply.status, dict(reply.getheaders()), reply.read())
    finally:
        conn.close()


def client_tls(cert_file: Path | None = None, key_file: Path | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if cert_file is not None:
        context.load_cert_chain(cert_file, key_file)
    return context


class Node:
    """One stand-in installation (an unpacked copy of the built zip) and its process."""

    def __init__(self, root: Path, zip_path: Path, name: str):
        self.name = name
        self.root = root / name
        self.home = extract(zip_path, self.root)
        self.http_port: int | None = None
        self.https_port: int | None = None
        self.mutual_port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.stdout_path = self.root / "stdout.txt"
        self.stderr_path = self.root / "stderr.txt"

    # configuration ---------------------------------------------------------------------------
    @property
    def boot_file(self) -> Path:
        return self.home / "resolver" / "boot.properties"

    def set_boot(self, values: dict[str, Any]) -> None:
        """Append properties; in a properties file the last definition of a key wins."""
        lines = "".join(f"{key}={value}\n" for key, value in values.items())
        with self.boot_file.open("a") as handle:
            handle.write(lines)

    def remove_boot(self, key: str) -> None:
        text = self.boot_file.read_text().splitlines(keepends=True)
        kept = [line for line in text if not line.replace(" ", "").startswith(f"{key}=")]
        self.boot_file.write_text("".join(kept))

    def conf(self, name: str) -> Path:
        return self.home / "conf" / name

    def write_conf(self, name: str, document: Any) -> None:
        self.conf(name).write_text(json.dumps(document, indent=2))

    def configure(
        self,
        pg: PostgresServer,
        dbname: str | None,
        node_id: str,
        *,
        https: bool = False,
        mutual: bool = False,
        delay: float = 0,
        grace: float = 0.2,
        cluster: dict | None = None,
        boot: dict | None = None,
    ) -> Node:
        self.http_port = free_port()
        values = {
            "openidm.node.id": node_id,
            "openidm.port.http": self.http_port,
            "openidm.https.enabled": str(https).lower(),
            "openidm.mutualauth.enabled": str(mutual).lower(),
            "openidm.repo.host": "127.0.0.1",
            "openidm.repo.port": pg.port,
            "standin.startup.delay.seconds": delay,
            "standin.shutdown.grace.seconds": grace,
        }
        if https:
            self.https_port = values["openidm.port.https"] = free_port()
        if mutual:
            self.mutual_port = values["openidm.port.mutualauth"] = free_port()
        values.update(boot or {})
        self.set_boot(values)
        self.write_conf("cluster.json", cluster or FAST_CLUSTER)
        if dbname is not None:
            self.set_database(dbname)
        return self

    def use_postgresql(self, keep_embedded: bool = False) -> None:
        """What the vendor's procedure does: copy the files of db/postgresql/conf/ into conf/
        and remove conf/repo.ds.json (kept with ``keep_embedded``)."""
        for name in ("repo.jdbc.json", "datasource.jdbc-default.json"):
            target = self.conf(name)
            if not target.exists():
                target.write_bytes((self.home / "db" / "postgresql" / "conf" / name).read_bytes())
        if not keep_embedded:
            self.conf("repo.ds.json").unlink(missing_ok=True)

    def set_database(self, dbname: str, keep_embedded: bool = False) -> None:
        self.use_postgresql(keep_embedded)
        document = json.loads(self.conf("datasource.jdbc-default.json").read_text())
        document["jdbcUrl"] = document["jdbcUrl"].replace("/openidm", f"/{dbname}")
        document["databaseName"] = dbname
        self.write_conf("datasource.jdbc-default.json", document)

    # process ---------------------------------------------------------------------------------
    def start(self, opts: str | None = None, args: tuple[str, ...] = ()) -> Node:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENIDM_", "PYTHON"))}
        # startup.sh runs `python3`: the one with psycopg and cryptography comes first.
        bindir = os.environ.get("STANDIN_TEST_PYTHON_BINDIR") or os.path.dirname(sys.executable)
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
        if opts is not None:
            env["OPENIDM_OPTS"] = opts
        self.proc = subprocess.Popen(
            [str(self.home / "startup.sh"), *args],
            cwd=self.root,
            env=env,
            stdout=self.stdout_path.open("wb"),
            stderr=self.stderr_path.open("wb"),
            start_new_session=True,
        )
        return self

    def wait_exit(self, timeout: float = 15) -> int:
        return self.proc.wait(timeout=timeout)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.running():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self) -> None:
        if self.running():
            self.proc.send_signal(signal.SIGTERM)

    # observation -----------------------------------------------------------------------------
    def log_text(self) -> str:
        path = self.home / "logs" / "openidm.log"
        return path.read_text() if path.exists() else ""

    def output(self) -> str:
        return self.stdout_path.read_text() + self.stderr_path.read_text()

    def diagnostics(self) -> str:
        return f"--- {self.name} output ---\n{self.output()}\n--- log ---\n{self.log_text()}"

    def get(self, path: str, **kwargs) -> Response:
        return request(self.http_port, "GET", path, **kwargs)

    def activate(self) -> Response:
        """Make this active/passive node ACTIVE (PUT /openidm/cluster/active, as the admin)."""
        return request(
            self.http_port,
            "PUT",
            "/openidm/cluster/active",
            auth="admin",
            headers={"If-Match": "*"},
            body={"state": "ACTIVE"},
        )

    def try_get(self, path: str, **kwargs) -> Response | None:
        try:
            return self.get(path, timeout=2, **kwargs)
        except OSError:
            return None

    def ready(self) -> bool:
        if not self.running():
            raise AssertionError(f"node {self.name} exited early\n{self.diagnostics()}")
        reply = self.try_get("/openidm/health/ready", auth="anonymous")
        return reply is not None and reply.status == 200

    def wait_ready(self, timeout: float = 20) -> Node:
        wait_for(self.ready, timeout, f"{self.name} ready")
        return self

    def wait_serving(self, timeout: float = 20) -> Node:
        def serving():
            if not self.running():
                raise AssertionError(f"node {self.name} exited early\n{self.diagnostics()}")
            return self.try_get("/openidm/health/live", auth="anonymous") is not None

        wait_for(serving, timeout, f"{self.name} listening")
        return self

    def cluster(self) -> dict[str, dict]:
        reply = self.get("/openidm/cluster?_queryFilter=true", auth="admin")
        assert reply.status == 200, reply.body
        return {entry["instanceId"]: entry for entry in reply.json["result"]}

    def copy_security_from(self, other: Node) -> None:
        """What the collection's secrets role does: the same keystore, truststore and
        conf/secrets.json on every node."""
        (self.home / "security").mkdir(exist_ok=True)
        for path in (other.keystore_file(), other.truststore_file(), other.conf("secrets.json")):
            shutil.copy2(path, self.home / path.relative_to(other.home))

    def keystore_file(self) -> Path:
        return self.home / "security" / "keystore.jceks"

    def truststore_file(self) -> Path:
        return self.home / "security" / "truststore"


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)
