"""module_utils/idm_api, the REST client the modules share, in process against a tiny local
server (fake_idm.py): headers and credentials (C8), errors that name URL, status and a hint and
never a password, bounded polling, TLS verification with and without a CA file."""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import pytest
from ansible_collections.idm_automation.cluster.plugins.module_utils import idm_api

SECRET = "s3cret-Pa55"


def _admin(password: str = SECRET, basic: bool = True) -> idm_api.Credentials:
    return idm_api.Credentials("openidm-admin", password, basic=basic)


def test_c8_anonymous_calls_send_the_anonymous_headers(fake) -> None:
    server = fake()
    reply = idm_api.IdmClient(server.url).send("GET", "/openidm/health/ready")
    assert reply.status == 200 and reply.ok
    headers = server.requests[-1].headers
    assert headers["x-openidm-username"] == "anonymous"
    assert headers["x-openidm-password"] == "anonymous"
    assert headers["x-openidm-nosession"] == "true"
    assert "authorization" not in headers


@pytest.mark.parametrize("basic", [True, False])
def test_admin_by_basic_or_headers(fake, basic: bool) -> None:
    server = fake(password=SECRET, instances=[{"instanceId": "node1", "state": "running"}])
    api = idm_api.IdmClient(server.url, _admin(basic=basic))
    assert api.cluster_instances() == [{"instanceId": "node1", "state": "running"}]
    headers = server.requests[-1].headers
    assert headers["x-openidm-nosession"] == "true"
    assert ("authorization" in headers) is basic
    assert ("x-openidm-password" in headers) is not basic


def test_401_names_url_status_and_credentials_but_not_the_password(fake) -> None:
    server = fake(password="another")
    api = idm_api.IdmClient(server.url, _admin())
    with pytest.raises(idm_api.IdmApiError) as caught:
        api.cluster_instances()
    text = str(caught.value)
    assert caught.value.status == 401
    assert f"GET {server.url}/openidm/cluster?_queryFilter=true: HTTP 401" in text
    assert "refused the credentials of openidm-admin" in text
    assert SECRET not in text and SECRET not in repr(api.credentials)


def test_401_of_an_anonymous_probe_points_at_the_anonymous_headers(fake) -> None:
    server = fake()
    api = idm_api.IdmClient(server.url, headers={"X-OpenIDM-Password": "x"})
    reply = api.send("GET", "/openidm/health/ready")
    assert reply.status == 401
    assert "anonymous headers" in idm_api.hint(reply, api.credentials)


def test_403_404_412_503_hints(fake) -> None:
    server = fake(activation=None)
    anonymous = idm_api.IdmClient(server.url)
    with pytest.raises(idm_api.IdmApiError, match=r"HTTP 403.*anonymous may not use"):
        anonymous.cluster_instances()
    admin = idm_api.IdmClient(server.url, _admin("openidm-admin"))
    with pytest.raises(idm_api.IdmApiError, match=r"HTTP 404.*does not know this resource"):
        admin.activation()
    assert admin.cluster_instance("nope") is None
    reply = idm_api.Reply("PUT", "u", 428)
    assert "If-Match" in idm_api.hint(reply, admin.credentials)
    assert "not ready" in idm_api.hint(idm_api.Reply("GET", "u", 503), admin.credentials)


def test_refused_connection_is_status_minus_one_and_says_nothing_listens() -> None:
    api = idm_api.IdmClient("http://127.0.0.1:1", _admin())
    reply = api.send("GET", idm_api.CLUSTER_QUERY)
    assert reply.status == idm_api.NOT_CONNECTED
    assert "refused" in reply.reason.lower()
    with pytest.raises(idm_api.IdmApiError) as caught:
        api.cluster_instances()
    assert "http://127.0.0.1:1/openidm/cluster" in str(caught.value)
    assert "Nothing listens there" in str(caught.value)
    assert caught.value.status == -1


def test_poll_retries_until_done_and_stops_at_the_deadline(fake) -> None:
    server = fake(fail_first=3)
    api = idm_api.IdmClient(server.url)
    reply, done = idm_api.poll(
        lambda: api.send("GET", "/openidm/health/ready"),
        lambda r: r.status == 200,
        idm_api.Deadline(30),
        0.05,
    )
    assert done and reply.status == 200 and len(server.requests) == 4

    never = fake(fail_first=10**6)
    api = idm_api.IdmClient(never.url)
    deadline = idm_api.Deadline(0.6)
    started = time.monotonic()
    reply, done = idm_api.poll(
        lambda: api.send("GET", "/openidm/health/ready"), lambda r: r.ok, deadline, 0.2
    )
    assert not done and reply.status == 503
    assert 0.6 <= time.monotonic() - started < 5
    assert 3 <= len(never.requests) <= 6
    assert deadline.left() == 0 and deadline.passed()


def test_poll_stops_early_and_asks_at_least_once() -> None:
    calls: list[int] = []

    def attempt() -> int:
        calls.append(1)
        return len(calls)

    result, done = idm_api.poll(
        attempt, lambda n: False, idm_api.Deadline(30), 0, stop=lambda n: n == 2
    )
    assert (result, done, len(calls)) == (2, False, 2)
    result, done = idm_api.poll(lambda: 7, lambda n: False, idm_api.Deadline(0), 1)
    assert (result, done) == (7, False)


def test_redact_and_url() -> None:
    assert idm_api.redact("a s3cret b s3cret", "s3cret", None, "") == "a ******** b ********"
    api = idm_api.IdmClient("http://h:1/")
    assert api.url("/x") == "http://h:1/x" and api.url("x") == "http://h:1/x"
    assert idm_api.IdmClient("http://h:1/openidm/health/ready").url("") == (
        "http://h:1/openidm/health/ready"
    )


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (PEM with key and certificate, CA file)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    base = tmp_path_factory.mktemp("tls")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (base / "server.pem").write_bytes(key_pem + cert_pem)
    (base / "ca.pem").write_bytes(cert_pem)
    return base / "server.pem", base / "ca.pem"


def test_tls_verification_with_ca_path_or_off(fake, tls_files) -> None:
    server_pem, ca = tls_files
    server = fake(certfile=str(server_pem))
    assert server.url.startswith("https://")
    strict = idm_api.IdmClient(server.url)
    reply = strict.send("GET", "/openidm/health/ready")
    assert reply.status == idm_api.NOT_CONNECTED
    assert "TLS failed" in idm_api.hint(reply, strict.credentials)
    with_ca = idm_api.IdmClient(server.url, ca_path=str(ca))
    assert with_ca.send("GET", "/openidm/health/ready").status == 200
    unchecked = idm_api.IdmClient(server.url, validate_certs=False)
    assert unchecked.send("GET", "/openidm/health/ready").status == 200
