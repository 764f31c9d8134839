"""Keystore, truststore and secrets.json of the IDM stand-in (test double): generated with random
key material on first start, and a node whose files differ from the recorded ones is not
ready."""

from __future__ import annotations

import json

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from standin_harness import file_mode, wait_for


def _load(path, password=b"changeit"):
    return pkcs12.load_pkcs12(path.read_bytes(), password)


def _not_ready_reason(node) -> str | None:
    reply = node.try_get("/openidm/info/ping", auth="anonymous")
    if reply is None or reply.json["state"] != "ACTIVE_NOT_READY":
        return None
    reason = reply.json["shortDesc"]
    return reason if "differ" in reason else None


def test_generated_stores_differ_and_only_nodes_with_the_same_files_are_ready(
    make_node, repo_db, pg
):
    first = make_node("first", repo_db, keys=False)
    first.start().wait_ready()
    own = make_node("own", repo_db, keys=False)  # generates its own keystore and truststore
    copied = make_node("copied", repo_db, keys=False)
    copied.copy_security_from(first)
    other_secrets = make_node("secrets", repo_db, keys=False)
    other_secrets.copy_security_from(first)
    secrets = json.loads(other_secrets.conf("secrets.json").read_text())
    other_secrets.write_conf("secrets.json", secrets)  # same content, other bytes
    for node in (own, copied, other_secrets):
        node.start()

    copied.wait_ready()
    own_reason = wait_for(lambda: _not_ready_reason(own), 20, "own: ACTIVE_NOT_READY")
    assert own_reason.startswith("keystore, truststore differ") and "node first" in own_reason
    secrets_reason = wait_for(
        lambda: _not_ready_reason(other_secrets), 20, "secrets: ACTIVE_NOT_READY"
    )
    assert secrets_reason.startswith("secrets.json differ")
    ready = own.get("/openidm/health/ready", auth="anonymous")
    assert ready.status == 503 and "keystore" in ready.json["message"]
    assert own.get("/openidm/health/live", auth="anonymous").status == 200
    assert "node is not ready: keystore, truststore differ" in own.log_text()
    assert "node is not ready: secrets.json differ" in other_secrets.log_text()

    # Independent first starts generate different key material, as PingIDM does.
    a, b = _load(first.keystore_file()), _load(own.keystore_file())
    assert first.keystore_file().read_bytes() != own.keystore_file().read_bytes()
    assert a.key.private_numbers() != b.key.private_numbers()
    assert a.cert.certificate != b.cert.certificate
    assert a.cert.friendly_name == b"openidm-localhost"
    cert = a.cert.certificate
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "localhost"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert a.key.key_size == 2048
    trust = _load(first.truststore_file())
    assert [c.certificate for c in trust.additional_certs] == [cert]
    for path in (first.keystore_file(), first.truststore_file()):
        assert file_mode(path) == 0o600

    recorded = pg.query(
        repo_db,
        "SELECT keypair FROM openidm.securitykeys WHERE objectid = 'idm-standin-fingerprints'",
    )
    assert json.loads(recorded[0][0])["recordedBy"] == "first"


def test_keystore_on_a_shared_path_is_created_once(make_node, repo_db, tmp_path):
    shared = tmp_path / "shared"
    location = {
        "openidm.keystore.location": shared / "keystore.jceks",
        "openidm.truststore.location": shared / "truststore",
    }
    nodes = [make_node(f"n{i}", repo_db, keys=False, boot=location) for i in range(3)]
    for node in nodes:
        node.start()
    for node in nodes:
        node.wait_ready()
    assert sorted(p.name for p in shared.iterdir()) == ["keystore.jceks", "truststore"]
    assert not any(node.keystore_file().exists() for node in nodes)
    logs = "".join(node.log_text() for node in nodes)
    assert logs.count("generated a new keystore") == 1


def test_wrong_store_password_is_fatal(make_node, repo_db):
    node = make_node("n", repo_db)  # the keystore is protected with "changeit"
    node.set_boot({"openidm.keystore.password": "not-changeit"})
    node.start()
    assert node.wait_exit() != 0
    log = node.log_text()
    assert f"cannot open the keystore {node.keystore_file()}" in log
    assert "wrong storePassword" in log
    assert "not-changeit" not in log


def test_foreign_keystore_format_is_fatal(make_node):
    node = make_node("n", None)
    node.keystore_file().write_bytes(b"\xfe\xed\xfe\xed not PKCS#12 (a JKS magic number)")
    node.start()
    assert node.wait_exit() != 0
    assert "reads PKCS#12 stores only" in node.log_text()


def test_missing_certificate_alias_is_fatal(make_node):
    node = make_node("n", None, https=True)
    listener = json.loads(node.conf("webserver.listener-https.json").read_text())
    listener["sslCertAlias"] = "no-such-alias"
    node.write_conf("webserver.listener-https.json", listener)
    node.start()
    assert node.wait_exit() != 0
    log = node.log_text()
    assert "no key entry with alias 'no-such-alias'" in log
    assert "webserver.listener-https.json" in log
