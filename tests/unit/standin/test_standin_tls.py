"""TLS to the repository: the stand-in (test double) honours ``sslmode`` and ``sslrootcert`` of the
datasource's jdbcUrl like PgJDBC, against a throwaway PostgreSQL that accepts TLS connections only
(``hostssl``), with a server certificate for ``localhost`` from a test CA made here."""

from __future__ import annotations

import datetime
import json
import os
import pwd
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from idm_standin import StandinError
from idm_standin.config import Paths
from idm_standin.props import Properties
from idm_standin.repo import Datasource, RepoError, load_datasource
from standin_harness import find_pg_bindir, free_port

PASSWORD = "tls-test-pw"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn: str):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _server_cert(ca_key, ca_cert, dns: str):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(dns))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def tls_pg():
    """A PostgreSQL that takes TLS only, its server certificate naming ``localhost`` alone; the
    signing CA and another CA as PEM files. Yields (port, good_ca, other_ca)."""
    bindir = find_pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql")
    base = Path(tempfile.mkdtemp(prefix="idm-standin-tlspg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    prefix: list[str] = []
    uid = gid = None
    if os.geteuid() == 0:
        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            entry = pwd.getpwnam("nobody")
        uid, gid = entry.pw_uid, entry.pw_gid
        for path in (base, sock):
            os.chown(path, uid, gid)
        prefix = ["runuser", "-u", entry.pw_name, "--"]

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, text=True)

    pwfile = base / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if uid is not None:
        os.chown(pwfile, uid, gid)
    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--pwfile", str(pwfile),
        "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync")  # fmt: skip
    ca_key, ca_cert = _ca("idm-standin test CA")
    _, other_cert = _ca("another CA")
    key, cert = _server_cert(ca_key, ca_cert, "localhost")
    (data / "server.crt").write_bytes(_pem(cert))
    (data / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(data / "server.key", 0o600)
    # TLS only: a connection without it finds no pg_hba.conf entry.
    (data / "pg_hba.conf").write_text(
        "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n"
        "hostssl all all ::1/128 scram-sha-256\n"
    )
    if uid is not None:
        for name in ("server.crt", "server.key", "pg_hba.conf"):
            os.chown(data / name, uid, gid)
    good, other = base / "ca.pem", base / "other-ca.pem"
    good.write_bytes(_pem(ca_cert))
    other.write_bytes(_pem(other_cert))
    port = free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sock} "
        "-c ssl=on -c fsync=off"
    )
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "postgres.log"), "-o", options,
        "-w", "-t", "30", "start")  # fmt: skip
    try:
        yield port, good, other
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)  # fmt: skip
        subprocess.run(["rm", "-rf", str(base)], capture_output=True)


def _ds(port: int, host: str, sslmode: str | None, sslrootcert: Path | str | None) -> Datasource:
    return Datasource(
        file="datasource.jdbc-default.json",
        hosts=((host, port),),
        dbname="postgres",
        user="postgres",
        password=PASSWORD,
        connect_timeout=5,
        sslmode=sslmode,
        sslrootcert=None if sslrootcert is None else str(sslrootcert),
    )


def _ssl_in_use(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0]


def test_verify_full_with_the_signing_ca_connects_over_tls(tls_pg):
    port, good, _ = tls_pg
    with _ds(port, "localhost", "verify-full", good).connect("t") as conn:
        assert _ssl_in_use(conn)


def test_verify_full_refuses_another_ca(tls_pg):
    port, _, other = tls_pg
    with pytest.raises(RepoError) as caught:
        _ds(port, "localhost", "verify-full", other).connect("t")
    text = str(caught.value)
    assert "SSL error" in text and "is not signed by a CA of sslrootcert" in text
    assert str(other) in text and f"localhost:{port}/postgres" in text


def test_verify_full_refuses_a_host_name_not_in_the_certificate(tls_pg):
    port, good, _ = tls_pg
    with pytest.raises(RepoError, match="does not name the host it was reached by"):
        _ds(port, "127.0.0.1", "verify-full", good).connect("t")


def test_verify_ca_checks_the_ca_but_not_the_name(tls_pg):
    port, good, other = tls_pg
    with _ds(port, "127.0.0.1", "verify-ca", good).connect("t") as conn:
        assert _ssl_in_use(conn)
    with pytest.raises(RepoError, match="is not signed by a CA"):
        _ds(port, "127.0.0.1", "verify-ca", other).connect("t")


def test_require_encrypts_without_checking_the_certificate(tls_pg):
    """PgJDBC's require accepts any server certificate, even with an sslrootcert that does not
    sign it (libpq with that root certificate would check it)."""
    port, _, other = tls_pg
    with _ds(port, "127.0.0.1", "require", other).connect("t") as conn:
        assert _ssl_in_use(conn)


def test_disable_is_refused_by_a_tls_only_server(tls_pg):
    port, _, _ = tls_pg
    with pytest.raises(RepoError, match="refuses a connection without SSL"):
        _ds(port, "127.0.0.1", "disable", None).connect("t")


def test_verify_full_with_a_missing_root_certificate_file(tls_pg, tmp_path):
    port, _, _ = tls_pg
    with pytest.raises(RepoError, match="cannot read the root certificate file"):
        _ds(port, "localhost", "verify-full", tmp_path / "absent.pem").connect("t")


def _load(tmp_path: Path, url: str) -> Datasource:
    conf = tmp_path / "conf"
    conf.mkdir(exist_ok=True)
    doc = {"driverClass": "org.postgresql.Driver", "jdbcUrl": url, "username": "openidm"}
    (conf / "datasource.jdbc-default.json").write_text(json.dumps(doc))
    paths = Paths(tmp_path, tmp_path, tmp_path, tmp_path / "boot.properties")
    return load_datasource(paths, Properties([{}]))


def test_jdbc_url_tls_parameters(tmp_path):
    url = "jdbc:postgresql://db:5432/idm?sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20x.pem"
    ds = _load(tmp_path, url)
    assert (ds.sslmode, ds.sslrootcert) == ("verify-full", "/etc/ca x.pem")
    assert _load(tmp_path, "jdbc:postgresql://db/idm").sslmode is None  # the driver's prefer
    assert _load(tmp_path, "jdbc:postgresql://db/idm?ssl=true").sslmode == "verify-full"
    assert _load(tmp_path, "jdbc:postgresql://db/idm?ssl=false").sslmode == "prefer"
    with pytest.raises(StandinError, match="Invalid sslmode value: verify_full"):
        _load(tmp_path, "jdbc:postgresql://db/idm?sslmode=verify_full")


def test_jdbc_url_target_server_type(tmp_path):
    ds = _load(tmp_path, "jdbc:postgresql://a:5432,b:5432/idm?targetServerType=primary")
    assert ds.hosts == (("a", 5432), ("b", 5432)) and ds.target_session_attrs == "primary"
    master = _load(tmp_path, "jdbc:postgresql://a/idm?targetServerType=master")
    assert master.target_session_attrs == "primary"
    with pytest.raises(StandinError, match="Invalid targetServerType value: leader"):
        _load(tmp_path, "jdbc:postgresql://a/idm?targetServerType=leader")


def test_node_refuses_to_start_on_a_server_certificate_of_another_ca(make_node, repo_db, tls_pg):
    port, _, other = tls_pg
    node = make_node("n", repo_db)
    datasource = json.loads(node.conf("datasource.jdbc-default.json").read_text())
    datasource["jdbcUrl"] = (
        f"jdbc:postgresql://localhost:{port}/postgres?sslmode=verify-full&sslrootcert={other}"
    )
    node.write_conf("datasource.jdbc-default.json", datasource)
    node.start()
    assert node.wait_exit() != 0
    log = node.log_text()
    assert "cannot start" in log and "SSL error" in log
    assert "is not signed by a CA of sslrootcert" in log
