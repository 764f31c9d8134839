"""REST side of the IDM stand-in (test double): TLS host check and mutual auth, endpoints,
authentication, admin password change, active/passive activation, start-up delay."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from idm_standin.security import new_certificate
from standin_harness import client_tls, request, wait_for

NEW_PASSWORD = "Rotated-Passw0rd!"


def _pem_files(tmp_path, name, key, cert):
    key_file, cert_file = tmp_path / f"{name}.key", tmp_path / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_file, key_file


def test_tls_host_header_check_and_mutual_auth(make_node, repo_db, tmp_path):
    node = make_node("tls", repo_db, https=True, mutual=True)
    node.start().wait_ready()
    tls = client_tls()

    def ping(port, host, context=tls):
        return request(
            port, "GET", "/openidm/info/ping", auth="anonymous", headers={"Host": host},
            tls=context,
        )  # fmt: skip

    good = ping(node.https_port, f"localhost:{node.https_port}")
    assert good.status == 200 and good.json["state"] == "ACTIVE_READY"
    assert ping(node.https_port, "LOCALHOST").status == 200
    wrong = ping(node.https_port, "idm.example.com")
    assert wrong.status == 400 and "Invalid SNI" in wrong.json["message"]
    assert wrong.headers["X-IDM-Node-Id"] == "tls"
    assert ping(node.https_port, None).status == 400  # no Host header at all
    # plain HTTP has no host check
    assert ping(node.http_port, "anything.example.com", context=None).status == 200

    with pytest.raises((ssl.SSLError, ConnectionError)):
        ping(node.mutual_port, "localhost")  # no client certificate
    stored = pkcs12.load_pkcs12(node.keystore_file().read_bytes(), b"changeit")
    trusted = client_tls(*_pem_files(tmp_path, "trusted", stored.key, stored.cert.certificate))
    assert ping(node.mutual_port, "localhost", trusted).status == 200
    stranger = client_tls(*_pem_files(tmp_path, "stranger", *new_certificate("localhost")))
    with pytest.raises((ssl.SSLError, ConnectionError)):
        ping(node.mutual_port, "localhost", stranger)


def _served_certificate(port: int) -> x509.Certificate:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        client_tls().wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def test_c7_generated_cert_is_cn_localhost(make_node, repo_db):
    """C7: the keystore generated on first start holds a self-signed certificate under
    openidm-localhost whose subject is CN=localhost, whatever openidm.host says."""
    node = make_node(
        "named", repo_db, keys=False, https=True, boot={"openidm.host": "idm.example.test"}
    )
    node.start().wait_ready()
    stored = pkcs12.load_pkcs12(node.keystore_file().read_bytes(), b"changeit")
    assert stored.cert.friendly_name == b"openidm-localhost"
    cert = stored.cert.certificate
    assert cert.subject.rfc4514_string() == "CN=localhost"
    assert cert.issuer == cert.subject  # self-signed
    assert _served_certificate(node.https_port) == cert
    listener = json.loads(node.conf("webserver.listener-https.json").read_text())
    assert listener["sslCertAlias"] == "&{openidm.https.keystore.cert.alias|openidm-localhost}"


def test_c7_https_wrong_host_is_400(make_node, repo_db):
    """C7: Jetty 12 answers 400 to a TLS request whose Host does not match the certificate, so
    a load balancer's public name gets 400 from the generated CN=localhost certificate."""
    node = make_node(
        "named", repo_db, keys=False, https=True, boot={"openidm.host": "idm.example.test"}
    )
    node.start().wait_ready()
    tls = client_tls()
    port = node.https_port

    def ready(host):
        return request(port, "GET", "/openidm/health/ready", auth="anonymous",
                       headers={"Host": host}, tls=tls)  # fmt: skip

    public = ready("idm.example.test")
    assert public.status == 400 and "Invalid SNI" in public.json["message"]
    assert ready(f"localhost:{port}").status == 200
    assert ready("127.0.0.1").status == 400


def _generate_stores(node) -> None:
    from idm_standin.config import Paths
    from idm_standin.props import Properties
    from idm_standin.security import prepare

    home = node.home
    props = Properties(
        [{"openidm.keystore.password": "changeit", "openidm.truststore.password": "changeit",
          "idm.install.dir": str(home)}]
    )  # fmt: skip
    prepare(Paths(home, home, home, home / "boot.properties"), props, "openidm-localhost")


@pytest.mark.skipif(shutil.which("keytool") is None, reason="needs keytool (Java)")
def test_c7_imported_alias_is_served(make_node, repo_db, tmp_path):
    """C7: a certificate imported into the (multi-entry) keystore under the listeners'
    sslCertAlias is the one served; other entries stay in the store."""
    node = make_node("imported", repo_db, keys=False, https=True)
    _generate_stores(node)  # what the first start does; the collection imports before starting
    key, cert = new_certificate("idm.example.test")
    bundle = tmp_path / "public.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"public", key, cert, None, serialization.BestAvailableEncryption(b"bundle-pw")
        )
    )
    store = str(node.keystore_file())
    keytool = ["keytool", "-noprompt", "-keystore", store, "-storetype", "PKCS12",
               "-storepass", "changeit"]  # fmt: skip
    # a first entry before ours, so that "the first key of the file" is not the right answer
    subprocess.run(
        [*keytool, "-genkeypair", "-alias", "aaa-other", "-dname", "CN=other", "-keyalg", "RSA",
         "-keysize", "2048"],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        ["keytool", "-noprompt", "-importkeystore", "-srckeystore", str(bundle),
         "-srcstoretype", "PKCS12", "-srcstorepass", "bundle-pw", "-srcalias", "public",
         "-destkeystore", store, "-deststoretype", "PKCS12", "-deststorepass", "changeit",
         "-destalias", "idm-public"],
        check=True, capture_output=True,
    )  # fmt: skip
    node.set_boot({"openidm.https.keystore.cert.alias": "idm-public"})
    node.start().wait_ready()
    assert _served_certificate(node.https_port) == cert
    tls = client_tls()
    port = node.https_port
    ok = request(port, "GET", "/openidm/health/ready", auth="anonymous",
                 headers={"Host": "idm.example.test"}, tls=tls)  # fmt: skip
    assert ok.status == 200
    refused = request(port, "GET", "/openidm/health/ready", auth="anonymous",
                      headers={"Host": "localhost"}, tls=tls)  # fmt: skip
    assert refused.status == 400

    # The default alias stays in the store: back on it, the CN=localhost certificate is served.
    node.terminate()
    node.wait_exit()
    node.set_boot({"openidm.https.keystore.cert.alias": "openidm-localhost"})
    node.start().wait_ready()
    assert _served_certificate(node.https_port).subject.rfc4514_string() == "CN=localhost"

    # Imported over the default alias (keytool overwrites the entry): that one is served.
    node.terminate()
    node.wait_exit()
    subprocess.run(
        ["keytool", "-noprompt", "-importkeystore", "-srckeystore", str(bundle),
         "-srcstoretype", "PKCS12", "-srcstorepass", "bundle-pw", "-srcalias", "public",
         "-destkeystore", store, "-deststorepass", "changeit", "-destalias", "openidm-localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    node.start().wait_serving()
    assert _served_certificate(node.https_port) == cert


def test_c8_health_without_credentials_is_401(make_node, repo_db):
    """C8: every REST endpoint, health and info included, answers 401 without credentials."""
    node = make_node("c8", repo_db)
    node.start().wait_ready()
    for path in ("/openidm/health/live", "/openidm/health/ready", "/openidm/health",
                 "/openidm/info/ping", "/openidm/info/version",
                 "/openidm/cluster?_queryFilter=true"):  # fmt: skip
        reply = node.get(path)
        assert reply.status == 401, path
        assert reply.json["code"] == 401 and reply.headers["X-IDM-Node-Id"] == "c8"
        assert node.get(path, auth=("anonymous", "wrong")).status == 401, path
    assert request(node.http_port, "HEAD", "/openidm/health/ready").status == 401
    assert node.get("/admin/").status == 200  # the UI's static files need no login


def test_c8_anonymous_headers_reach_health(make_node, repo_db):
    """C8: the anonymous headers (with X-OpenIDM-NoSession) reach health and info; the admin
    does too; anonymous on an admin resource is 403."""
    node = make_node("c8", repo_db)
    node.start().wait_ready()
    anonymous = {
        "X-OpenIDM-Username": "anonymous",
        "X-OpenIDM-Password": "anonymous",
        "X-OpenIDM-NoSession": "true",
    }
    for path in ("/openidm/health/live", "/openidm/health/ready", "/openidm/info/ping",
                 "/openidm/info/version"):  # fmt: skip
        assert node.get(path, headers=anonymous).status == 200, path
        assert node.get(path, auth="admin").status == 200, path
    ready = node.get("/openidm/health/ready", headers=anonymous).json
    assert ready["state"] == "ACTIVE_READY"
    assert node.get("/openidm/cluster?_queryFilter=true", headers=anonymous).status == 403


def test_authentication_and_admin_password_change(make_node, repo_db, pg):
    a = make_node("a", repo_db).start()
    b = make_node("b", repo_db).start()
    a.wait_ready()
    b.wait_ready()
    query = "/openidm/cluster?_queryFilter=true"

    assert a.get(query).status == 401
    assert a.get(query, auth="anonymous").status == 403
    assert a.get(query, auth=("openidm-admin", "wrong")).status == 401
    assert a.get(query, auth="admin").status == 200
    assert a.get(query, auth=("basic", "openidm-admin", "openidm-admin")).status == 200
    assert a.get("/openidm/info/ping").status == 401
    no_session = {"X-OpenIDM-NoSession": "true"}
    assert a.get("/openidm/info/ping", auth="anonymous", headers=no_session).status == 200

    patch = [{"operation": "replace", "field": "password", "value": NEW_PASSWORD}]
    path = "/openidm/internal/user/openidm-admin"
    assert request(a.http_port, "PATCH", path, auth="anonymous", body=patch).status == 403
    bad = request(a.http_port, "PATCH", path, auth="admin", body={"password": "x"})
    assert bad.status == 400
    changed = request(a.http_port, "PATCH", path, auth="admin", body=patch)
    assert changed.status == 200 and changed.json["_id"] == "openidm-admin"
    assert NEW_PASSWORD not in changed.body.decode()

    for node in (a, b):  # the old password stops working on every node
        assert node.get(query, auth="admin").status == 401
        assert node.get(query, auth=("openidm-admin", NEW_PASSWORD)).status == 200
        assert node.get(query, auth=("basic", "openidm-admin", NEW_PASSWORD)).status == 200
        assert NEW_PASSWORD not in node.log_text()
    stored = pg.query(repo_db, "SELECT pwd FROM openidm.internaluser WHERE objectid = %s",
                      ["openidm-admin"])[0][0]  # fmt: skip
    assert NEW_PASSWORD not in stored and "salted-hash" in stored


def test_active_passive_activation(make_node, repo_db):
    plain = make_node("plain", repo_db).start()
    flags = {
        "org.forgerock.feature.cluster.active.passive": "true",
        "org.forgerock.feature.cluster.improved": "true",
    }
    standby = make_node("standby", repo_db, boot=flags)
    standby.start().wait_ready()  # standby nodes are ready and serve API calls
    plain.wait_ready()
    port = standby.http_port
    active = "/openidm/cluster/active"

    assert standby.get(active, auth="admin").json == {"state": "STANDBY"}
    assert standby.get("/openidm/cluster/standby", auth="admin").json["activation"] == "STANDBY"
    assert standby.get(active, auth="anonymous").status == 403
    body = {"state": "ACTIVE"}
    assert request(port, "PUT", active, auth="admin", body=body).status == 428
    wrong_tag = {"If-Match": '"1"'}
    assert request(port, "PUT", active, auth="admin", body=body, headers=wrong_tag).status == 412
    star = {"If-Match": "*"}
    bad = request(port, "PUT", active, auth="admin", body={"state": "ON"}, headers=star)
    assert bad.status == 400
    switched = request(port, "PUT", active, auth="admin", body=body, headers=star)
    assert switched.status == 200 and switched.json == {"state": "ACTIVE"}
    assert standby.get(active, auth="admin").json == {"state": "ACTIVE"}
    row = plain.get("/openidm/cluster/standby", auth="admin").json
    assert row["activation"] == "ACTIVE"
    assert "activation state changed from STANDBY to ACTIVE" in standby.log_text()

    # without the two feature flags there is no such endpoint
    assert plain.get(active, auth="admin").status == 404
    assert request(plain.http_port, "PUT", active, auth="admin", body=body,
                   headers=star).status == 404  # fmt: skip


def test_startup_delay_endpoints_and_node_header(make_node, repo_db):
    node = make_node("slow", repo_db, delay=1.5)
    node.start().wait_serving()
    ping = node.get("/openidm/info/ping", auth="anonymous").json
    assert ping == {"_id": "", "_rev": "", "shortDesc": "OpenIDM starting", "state": "STARTING"}
    assert node.get("/openidm/health/ready", auth="anonymous").status == 503
    assert node.get("/openidm/health/live", auth="anonymous").status == 503
    node.wait_ready()
    ping = node.get("/openidm/info/ping", auth="anonymous").json
    assert ping == {"_id": "", "_rev": "", "shortDesc": "OpenIDM ready", "state": "ACTIVE_READY"}
    assert node.get("/openidm/health/live", auth="anonymous").status == 200
    head = request(node.http_port, "HEAD", "/openidm/health/ready", auth="anonymous")
    assert head.status == 200 and head.body == b""
    assert "OpenIDM ready" in node.stdout_path.read_text()

    version = node.get("/openidm/info/version", auth="anonymous")
    assert version.json["_id"] == "version"
    assert version.json["productVersion"] == "8.1.0"
    assert version.json["productRevision"] == "test-double"
    missing = node.get("/openidm/no/such/thing", auth="admin")
    assert missing.status == 404 and missing.json["code"] == 404
    ui = node.get("/admin/")
    assert ui.status == 200 and b"stand-in" in ui.body
    extension = node.home / "ui" / "admin" / "extension"
    extension.mkdir()
    (extension / "index.html").write_text("<p>customised</p>")
    assert node.get("/admin/index.html").body == b"<p>customised</p>"
    assert node.get("/admin/../../resolver/boot.properties").status == 404
    for reply in (ui, missing, version, node.get("/openidm/cluster")):
        assert reply.headers["X-IDM-Node-Id"] == "slow"
    wait_for(lambda: "OpenIDM ready" in node.log_text(), 5, "ready logged")
