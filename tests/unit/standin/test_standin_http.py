"""REST side of the IDM stand-in (test double): TLS host check and mutual auth, endpoints,
authentication, admin password change, active/passive activation, start-up delay."""

from __future__ import annotations

import ssl

import pytest
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


def test_certificate_follows_openidm_host(make_node, repo_db):
    node = make_node(
        "named", repo_db, keys=False, https=True, boot={"openidm.host": "idm.example.test"}
    )
    node.start().wait_ready()
    tls = client_tls()
    port = node.https_port
    ok = request(port, "GET", "/openidm/health/ready", headers={"Host": "idm.example.test"},
                 tls=tls)  # fmt: skip
    assert ok.status == 200
    refused = request(port, "GET", "/openidm/health/ready", headers={"Host": "localhost"}, tls=tls)
    assert refused.status == 400


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
    assert node.get("/openidm/health/ready").status == 503
    assert node.get("/openidm/health/live").status == 503
    node.wait_ready()
    ping = node.get("/openidm/info/ping", auth="anonymous").json
    assert ping == {"_id": "", "_rev": "", "shortDesc": "OpenIDM ready", "state": "ACTIVE_READY"}
    assert node.get("/openidm/health/live").status == 200
    head = request(node.http_port, "HEAD", "/openidm/health/ready")
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
