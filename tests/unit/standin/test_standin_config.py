"""Configuration, keys and start-up of the IDM stand-in (test double) as the product contract
describes them (rows C6, C9, C10, C11, C12, C15, C16)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from standin_harness import request, wait_for

SCHEDULE = {
    "enabled": True,
    "persisted": True,
    "type": "simple",
    "repeatInterval": 60000,
    "invokeService": "script",
    "invokeContext": {"script": {"type": "text/javascript", "source": "1"}},
}


def _config(node, method, name, body=None):
    return request(
        node.http_port, method, f"/openidm/config/schedule/{name}", auth="admin", body=body
    )


def _config_rows(pg, dbname) -> dict[str, dict]:
    rows = pg.query(
        dbname,
        "SELECT c.objectid, c.fullobject FROM openidm.configobjects c JOIN openidm.objecttypes t"
        " ON t.id = c.objecttypes_id WHERE t.objecttype = 'config'",
    )
    return dict(rows)


def _not_ready_reason(node) -> str | None:
    reply = node.try_get("/openidm/info/ping", auth="anonymous")
    if reply is None or reply.json["state"] != "ACTIVE_NOT_READY":
        return None
    return reply.json["shortDesc"]


def test_c6_rest_schedule_written_back(make_node, repo_db, pg):
    a = make_node("a", repo_db).start()
    b = make_node("b", repo_db).start()
    a.wait_ready()
    b.wait_ready()
    assert request(a.http_port, "GET", "/openidm/config/schedule/x").status == 401

    reply = _config(a, "PUT", "rest-made", SCHEDULE)
    assert reply.status == 201, reply.body
    assert reply.json["_id"] == "schedule/rest-made"
    # Written back on the node that received it, stored in the repository for the others.
    written = json.loads(a.conf("schedule-rest-made.json").read_text())
    assert written == SCHEDULE
    assert not b.conf("schedule-rest-made.json").exists()
    assert _config_rows(pg, repo_db)["schedule/rest-made"]["repeatInterval"] == 60000
    on_b = _config(b, "GET", "rest-made")
    assert on_b.status == 200 and on_b.json["repeatInterval"] == 60000
    assert _config(a, "PUT", "rest-made", {**SCHEDULE, "repeatInterval": 120000}).status == 200
    assert _config(b, "GET", "rest-made").json["repeatInterval"] == 120000
    assert _config(b, "GET", "unknown").status == 404

    # Write-back off: stored, not written.
    c = make_node("c", repo_db, boot={"felix.fileinstall.enableConfigSave": "false"})
    c.start().wait_ready()
    assert _config(c, "PUT", "no-file", SCHEDULE).status == 201
    assert not c.conf("schedule-no-file.json").exists()
    assert _config(a, "GET", "no-file").status == 200

    # DELETE removes it from the repository and the file of the node that got the request.
    assert _config(b, "DELETE", "no-file").status == 200
    assert "schedule/no-file" not in _config_rows(pg, repo_db)


def test_c6_file_removal_deletes_config(make_node, repo_db, pg):
    a = make_node("a", repo_db, boot={"felix.fileinstall.poll": 300})
    a.write_conf("schedule-from-file.json", SCHEDULE)  # loaded into the repository at start
    b = make_node("b", repo_db)
    a.start().wait_ready()
    b.start().wait_ready()
    assert "schedule/from-file" in _config_rows(pg, repo_db)
    assert _config(a, "PUT", "rest-made", SCHEDULE).status == 201

    # A file dropped into conf/ of a running node is loaded, ...
    a.write_conf("schedule-dropped.json", SCHEDULE)
    wait_for(lambda: "schedule/dropped" in _config_rows(pg, repo_db), 5, "dropped file loaded")
    # ... and removing a file deletes the configuration object for the whole cluster.
    started = time.monotonic()
    a.conf("schedule-rest-made.json").unlink()
    a.conf("schedule-from-file.json").unlink()
    wait_for(
        lambda: not {"schedule/rest-made", "schedule/from-file"} & set(_config_rows(pg, repo_db)),
        5,
        "configuration deleted",
    )
    assert time.monotonic() - started < 3
    assert _config(b, "GET", "rest-made").status == 404
    assert "conf/schedule-rest-made.json was removed" in a.log_text()
    assert "schedule/dropped" in _config_rows(pg, repo_db)


def _any_config(node, method, pid, body=None):
    return request(node.http_port, method, f"/openidm/config/{pid}", auth="admin", body=body)


def test_c6_every_conf_json_is_a_configuration_object(make_node, repo_db, pg):
    ldap = {"connectorRef": {"bundleName": "org.forgerock.openicf.connectors.ldap-connector"}}
    a = make_node("a", repo_db)
    a.write_conf("provisioner.openicf-ldap.json", ldap)  # a factory configuration
    a.write_conf("sync.json", {"mappings": []})
    b = make_node("b", repo_db)
    a.start().wait_ready()
    b.start().wait_ready()
    rows = _config_rows(pg, repo_db)
    assert rows["provisioner.openicf/ldap"]["connectorRef"] == ldap["connectorRef"]
    assert {"sync", "cluster", "webserver.listener/http"} <= set(rows)
    # Read through another node, from the repository.
    assert (
        _any_config(b, "GET", "provisioner.openicf/ldap").json["_id"] == "provisioner.openicf/ldap"
    )
    assert _any_config(b, "GET", "sync").json["mappings"] == []

    # A PUT of any object is written back to its file on the receiving node only.
    managed = {"objects": [{"name": "user"}]}
    assert _any_config(b, "PUT", "managed", managed).status == 201
    assert json.loads(b.conf("managed.json").read_text()) == managed
    assert not a.conf("managed.json").exists()
    assert _any_config(a, "GET", "managed").json["objects"] == [{"name": "user"}]
    assert _any_config(a, "PUT", "endpoint/custom-x", {"type": "text/javascript"}).status == 201
    assert a.conf("endpoint-custom-x.json").exists()
    for bad in ("-x", "a%20b", "a/b/c", "a/-b"):
        assert _any_config(a, "GET", bad).status == 404, bad


def test_c6_without_fileinstall_the_repository_is_authoritative(make_node, repo_db, pg):
    off = {"openidm.fileinstall.enabled": "false"}
    # An empty repository is bootstrapped from the files, even without fileinstall.
    first = make_node("first", repo_db, boot=off)
    first.write_conf("sync.json", {"version": 1})
    first.start().wait_ready()
    assert _config_rows(pg, repo_db)["sync"]["version"] == 1
    # Once it holds configuration, another node's different file is not loaded.
    second = make_node("second", repo_db, boot=off)
    second.write_conf("sync.json", {"version": 2})
    second.start().wait_ready()
    assert _any_config(second, "GET", "sync").json["version"] == 1
    assert "configuration read from the repository only" in second.log_text()


@pytest.mark.parametrize("variant", ["state", "recovery"])
def test_c9_processing_down_state_or_recovery_object(make_node, repo_db, variant):
    slow = {
        "instanceId": "&{openidm.node.id}",
        "instanceTimeout": 1500,
        "instanceRecoveryTimeout": 6000,
        "instanceCheckInInterval": 300,
        "instanceCheckInOffset": 0,
        "enabled": True,
    }
    boot = {"standin.variant.c9": variant}
    watcher = make_node("watcher", repo_db, cluster=slow, boot=boot)
    victim = make_node("victim", repo_db, cluster=slow, boot=boot)
    watcher.start().wait_ready()
    victim.start().wait_ready()
    wait_for(lambda: "victim" in watcher.cluster(), 5, "victim row")
    victim.kill()

    def in_recovery():
        entry = watcher.cluster()["victim"]
        return entry if "recovery" in entry else None

    entry = wait_for(in_recovery, 10, "victim in recovery")
    if variant == "state":
        assert entry["state"] == "processing-down"
        assert "state" not in entry["recovery"]
    else:
        assert entry["state"] == "running"
        assert entry["recovery"]["state"] == "processing-down"
    entry = wait_for(
        lambda: watcher.cluster()["victim"]["state"] == "down" and watcher.cluster()["victim"],
        15,
        "victim down",
    )
    if variant == "recovery":
        assert entry["recovery"]["state"] == "recovered"


def test_c10_duplicate_node_id_not_refused(make_node, repo_db, pg):
    first = make_node("first", repo_db, node_id="same")
    second = make_node("second", repo_db, node_id="same")
    first.start().wait_ready()
    # startup.sh itself refuses a second start of a running installation (its PID file)
    again = subprocess.run([str(first.home / "startup.sh")], capture_output=True, text=True)
    assert again.returncode == 1 and "already running" in again.stderr
    second.start().wait_ready()  # the product does not refuse a duplicate node ID
    assert first.running() and second.running()
    rows = pg.query(
        repo_db,
        "SELECT c.fullobject FROM openidm.clusterobjects c JOIN openidm.objecttypes t"
        " ON t.id = c.objecttypes_id WHERE t.objecttype = 'cluster/states'",
    )
    assert len(rows) == 1  # both write the same cluster row
    homes = set()

    def both_wrote():
        homes.add(_home(pg, repo_db))
        return len(homes) == 2

    wait_for(both_wrote, 10, "both instances overwrite the shared row")
    assert list(first.cluster()) == ["same"]
    assert "already in use" not in second.log_text()


def _home(pg, dbname) -> str:
    rows = pg.query(
        dbname,
        "SELECT c.fullobject->>'home' FROM openidm.clusterobjects c JOIN openidm.objecttypes t"
        " ON t.id = c.objecttypes_id WHERE t.objecttype = 'cluster/states'",
    )
    return rows[0][0]


def test_c10_foreign_keystore_cannot_decrypt(make_node, repo_db, pg):
    first = make_node("first", repo_db, keys=False)
    first.start().wait_ready()
    stored = _config_rows(pg, repo_db)["standin.encrypted"]
    assert stored["recordedBy"] == "first"
    value = stored["secret"]["$crypto"]
    assert value["type"] == "x-simple-encryption"
    assert value["value"]["cipher"] == "AES/GCM/NoPadding"

    own = make_node("own", repo_db, keys=False)  # generates a keystore of its own
    copied = make_node("copied", repo_db, keys=False)
    copied.copy_security_from(first)  # what the collection's secrets role does
    own.start()
    copied.start()
    copied.wait_ready()
    reason = wait_for(lambda: _not_ready_reason(own), 20, "own: ACTIVE_NOT_READY")
    assert "cannot decrypt configuration standin.encrypted" in reason
    assert "encrypted by node first" in reason and "other key material" in reason
    ready = own.get("/openidm/health/ready", auth="anonymous")
    assert ready.status == 503 and "cannot decrypt" in ready.json["message"]
    assert own.get("/openidm/health/live", auth="anonymous").status == 200  # it is up, not refused
    assert "node is not ready: cannot decrypt configuration" in own.log_text()
    # No keystore comparison: a node with the same key but other store bytes is ready.
    assert first.keystore_file().read_bytes() != own.keystore_file().read_bytes()

    # Given the cluster's keystore, the node decrypts and becomes ready after a restart, once
    # its datasource no longer holds a password encrypted with its old key (C5): whoever
    # replaces a node's keystore must also give it the datasource anew.
    own.kill()
    own.copy_security_from(first)
    own.start()
    own.wait_exit()
    assert "conf/datasource.jdbc-default.json password: cannot decrypt" in own.log_text()
    shutil.copy2(
        first.conf("datasource.jdbc-default.json"), own.conf("datasource.jdbc-default.json")
    )
    own.start().wait_ready()


def test_c10_crypto_module_api():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "idm_standin/openidm/bin"))
    from cryptography.hazmat.primitives.asymmetric import rsa
    from idm_standin import crypto

    key_a = crypto.key_from_private_key(rsa.generate_private_key(65537, 2048))
    key_b = crypto.key_from_private_key(rsa.generate_private_key(65537, 2048))
    assert len(key_a) == 32 and key_a != key_b
    one = crypto.encrypt("secret", key_a, "openidm-localhost")
    two = crypto.encrypt("secret", key_a, "openidm-localhost")
    assert crypto.is_encrypted(one) and not crypto.is_encrypted("secret")
    assert one["$crypto"]["value"]["iv"] != two["$crypto"]["value"]["iv"]  # random IV
    assert one["$crypto"]["value"]["key"] == "openidm-localhost"
    assert crypto.decrypt(one, key_a) == "secret"
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(one, key_b)


def test_c12_strict_variant_needs_the_shipped_boot_keys(make_node, repo_db):
    strict = {"standin.variant.c12": "strict"}
    complete = make_node("complete", repo_db, boot=strict)
    lenient = make_node("lenient", repo_db)
    missing = make_node("missing", repo_db, boot=strict)
    for node in (lenient, missing):
        node.remove_boot("openidm.host")
        node.remove_boot("openidm.servlet.alias")
    for node in (complete, lenient, missing):
        node.start()
    complete.wait_ready()
    lenient.wait_ready()  # default variant: built-in defaults
    assert missing.wait_exit() != 0
    log = missing.log_text()
    assert "lacks key(s) the distribution ships" in log
    assert "openidm.host, openidm.servlet.alias" in log


def test_c12_shipped_boot_properties_hold_more_keys(dist):
    text = (dist / "resolver" / "boot.properties").read_text()
    keys = {line.split("=", 1)[0] for line in text.splitlines() if "=" in line and line[0] != "#"}
    assert {
        "openidm.node.id",
        "openidm.host",
        "openidm.port.http",
        "openidm.port.https",
        "openidm.port.mutualauth",
        "openidm.servlet.alias",
        "openidm.config.crypto.alias",
        "openidm.https.keystore.cert.alias",
    } <= keys
    assert "openidm.node.id=node1" in text.splitlines()


def test_c15_startup_delay_default(make_node, repo_db):
    node = make_node("slow", repo_db)
    node.remove_boot("standin.startup.delay.seconds")  # the shipped default: 20 s
    started = time.monotonic()
    node.start().wait_serving()
    assert node.get("/openidm/info/ping", auth="anonymous").json["state"] == "STARTING"
    assert node.get("/openidm/health/ready", auth="anonymous").status == 503
    time.sleep(3)
    assert (
        node.get("/openidm/health/ready", auth="anonymous").status == 503
    )  # a 2 s wait would not do
    node.wait_ready(timeout=30)
    assert time.monotonic() - started >= 19
    assert "start-up delay 20.0 s" in node.log_text()


def _fake_java(directory: Path, version: str) -> str:
    directory.mkdir()
    java = directory / "java"
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\" 2025-01-01' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return str(directory)


def test_c16_strict_variant_needs_java_17_or_21(make_node, repo_db, tmp_path, monkeypatch):
    strict = {"standin.variant.c16": "strict"}
    good = make_node("good", repo_db, boot=strict)
    old = make_node("old", repo_db, boot=strict)
    lenient = make_node("lenient", repo_db)
    path = os.environ.get("PATH", "")
    monkeypatch.setenv("PATH", _fake_java(tmp_path / "java21", "21.0.5") + os.pathsep + path)
    good.start()
    lenient.start()
    monkeypatch.setenv("PATH", _fake_java(tmp_path / "java11", "11.0.2") + os.pathsep + path)
    old.start()
    good.wait_ready()
    lenient.wait_ready()
    assert old.wait_exit() != 0
    assert "java -version reports Java 11: PingIDM 8.1 needs Java 17 or 21" in old.log_text()


def test_c11_secrets_json_properties_or_literals(tmp_path, pg, repo_db, scripts):
    from standin_harness import ZIP_NAME, Node

    out = build_literals(tmp_path)
    shipped = json.loads(extract_secrets(out / ZIP_NAME))
    store = shipped["stores"][0]["config"]
    assert store["storePassword"] == "changeit"
    assert store["file"] == "&{idm.data.dir}/security/keystore.jceks"

    # Under the literal variant, openidm.keystore.* in boot.properties have no effect.
    node = Node(tmp_path, out / ZIP_NAME, "lit")
    shared = tmp_path / "elsewhere"
    node.configure(
        pg,
        repo_db,
        "lit",
        boot={
            "openidm.keystore.password": "other-pw",
            "openidm.keystore.location": shared / "keystore.jceks",
        },
    )
    try:
        node.start().wait_ready()
        assert node.keystore_file().exists() and not shared.exists()
    finally:
        node.kill()

    # Default variant: the same properties choose password and location.
    default = Node(tmp_path, build_default(tmp_path), "prop")
    default.configure(
        pg,
        pg.create_database(scripts),  # its own keys: a database of its own
        "prop",
        boot={
            "openidm.keystore.password": "other-pw",
            "openidm.keystore.location": shared / "keystore.jceks",
        },
    )
    try:
        default.start().wait_ready()
        assert (shared / "keystore.jceks").exists() and not default.keystore_file().exists()
    finally:
        default.kill()


def test_c11_literals_follow_boot_properties_through_secrets_stores(tmp_path, pg, repo_db):
    """The collection's answer to C11: with the literal variant, the secrets_stores filter applied
    to the shipped secrets.json makes openidm.keystore.* in boot.properties decide again."""
    import importlib.util

    from standin_harness import ZIP_NAME, Node

    plugin = Path(__file__).resolve().parents[3] / "plugins/filter/secrets_stores.py"
    spec = importlib.util.spec_from_file_location("secrets_stores_plugin", plugin)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    secrets_stores = module.secrets_stores

    out = build_literals(tmp_path)
    node = Node(tmp_path, out / ZIP_NAME, "lit")
    shared = tmp_path / "shared"
    node.configure(
        pg,
        repo_db,
        "lit",
        boot={
            "openidm.keystore.password": "other-pw",
            "openidm.keystore.location": shared / "keystore.jceks",
            "openidm.truststore.password": "other-pw",
            "openidm.truststore.location": shared / "truststore",
        },
    )
    secrets = node.conf("secrets.json")
    secrets.write_text(secrets_stores(secrets.read_text()))
    try:
        node.start().wait_ready()
        assert (shared / "keystore.jceks").exists() and (shared / "truststore").exists()
        assert not node.keystore_file().exists()
    finally:
        node.kill()


def build_literals(tmp_path: Path) -> Path:
    """The distribution built with ``--variant c11=literals``; returns its directory."""
    from standin_harness import STANDIN_SRC

    out = tmp_path / "literals"
    subprocess.run(
        [str(STANDIN_SRC / "build"), str(out), "--variant", "c11=literals"],
        check=True,
        capture_output=True,
    )
    return out


def extract_secrets(zip_path: Path) -> str:
    import zipfile

    with zipfile.ZipFile(zip_path) as archive:
        return archive.read("openidm/conf/secrets.json").decode()


def build_default(tmp_path: Path) -> Path:
    from standin_harness import build_zip

    return build_zip(tmp_path / "default")


@pytest.mark.skipif(shutil.which("keytool") is None, reason="needs keytool (Java)")
def test_c10_tls_certificate_replacement_keeps_the_config_key(make_node, repo_db, pg, tmp_path):
    """C7 + C10: a generated keystore holds the listeners' entry and a separate configuration key
    entry (openidm-sym-default). Importing a certificate over openidm-localhost, as the collection
    does after the first start, leaves what the first node encrypted readable."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from idm_standin.security import new_certificate

    first = make_node("first", repo_db, keys=False)
    first.start().wait_ready()
    first.terminate()
    first.wait_exit()
    key, cert = new_certificate("idm.example.test")
    bundle = tmp_path / "public.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"public", key, cert, None, serialization.BestAvailableEncryption(b"bundle-pw")
        )
    )
    listing = [
        "keytool",
        "-list",
        "-keystore",
        str(first.keystore_file()),
        "-storepass",
        "changeit",
    ]
    before = subprocess.run(listing, check=True, capture_output=True, text=True).stdout
    assert "openidm-localhost" in before and "openidm-sym-default" in before
    subprocess.run(
        ["keytool", "-noprompt", "-importkeystore", "-srckeystore", str(bundle),
         "-srcstoretype", "PKCS12", "-srcstorepass", "bundle-pw", "-srcalias", "public",
         "-destkeystore", str(first.keystore_file()), "-deststorepass", "changeit",
         "-destalias", "openidm-localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    first.start().wait_ready()  # decrypts what it stored before the import
    assert "cannot decrypt" not in first.log_text()


@pytest.mark.parametrize("write_back", ["true", "false"])
def test_c5_a_datasource_rewritten_on_a_running_node_is_stored_encrypted(
    make_node, repo_db, pg, write_back
):
    """The collection rewrites conf/datasource.jdbc-default.json on a running node (a rotation,
    a repair): fileinstall loads it with the password encrypted, as IDM encrypts it on load, so
    the repository never holds it in plaintext (with write-back, the file is encrypted too)."""
    node = make_node(
        "a",
        repo_db,
        boot={"felix.fileinstall.poll": 200, "felix.fileinstall.enableConfigSave": write_back},
    )
    node.start().wait_ready()
    document = json.loads(node.conf("datasource.jdbc-default.json").read_text())
    plaintext = "plain-rotated-secret-4711"  # used only at the next start
    node.write_conf(
        "datasource.jdbc-default.json", dict(document, password=plaintext, maxPoolSize=7)
    )
    wait_for(
        lambda: (
            _config_rows(pg, repo_db).get("datasource.jdbc/default", {}).get("maxPoolSize") == 7
        ),
        5,
        "rewritten datasource loaded",
    )
    stored = _config_rows(pg, repo_db)["datasource.jdbc/default"]
    assert isinstance(stored["password"], dict) and "$crypto" in stored["password"], stored
    assert plaintext not in json.dumps(stored)
    on_disk = json.loads(node.conf("datasource.jdbc-default.json").read_text())["password"]
    assert isinstance(on_disk, dict) == (write_back == "true")
