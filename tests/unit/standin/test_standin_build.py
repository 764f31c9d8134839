"""The IDM stand-in (test double) distribution: reproducible zip with PingIDM 8.1's layout and
default files."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
import zipfile

from idm_standin.props import parse_properties
from standin_harness import STANDIN_SRC, ZIP_NAME, build_zip

REQUIRED = [
    "startup.sh",
    "shutdown.sh",
    "README-TEST-DOUBLE.txt",
    "resolver/boot.properties",
    "conf/cluster.json",
    "conf/repo.ds.json",
    "db/postgresql/conf/datasource.jdbc-default.json",
    "db/postgresql/conf/repo.jdbc.json",
    "conf/secrets.json",
    "conf/webserver.json",
    "conf/webserver.listener-http.json",
    "conf/webserver.listener-https.json",
    "conf/webserver.listener-mutualauth.json",
    "conf/scheduler.json",
    "conf/metrics.json",
    "conf/system.properties",
    "db/postgresql/scripts/createuser.pgsql",
    "db/postgresql/scripts/openidm.pgsql",
    "db/postgresql/scripts/flowable.postgres.all.create.sql",
    "db/postgresql/scripts/audit.pgsql",
    "db/postgresql/scripts/default_schema_optimization.pgsql",
    "security/.keep",
    "logs/.keep",
    "script/.keep",
    "workflow/.keep",
    "ui/admin/default/index.html",
    "bin/idm_standin/__main__.py",
]


def test_build_is_reproducible_and_fast(tmp_path):
    started = time.monotonic()
    first = build_zip(tmp_path / "one")
    elapsed = time.monotonic() - started
    second = build_zip(tmp_path / "two")
    assert first.read_bytes() == second.read_bytes()
    assert elapsed < 2.0
    checksum = (tmp_path / "one" / f"{ZIP_NAME}.sha256").read_text()
    assert checksum == f"{hashlib.sha256(first.read_bytes()).hexdigest()}  {ZIP_NAME}\n"
    result = subprocess.run(
        ["sha256sum", "-c", f"{ZIP_NAME}.sha256"], cwd=tmp_path / "one", capture_output=True
    )
    assert result.returncode == 0


def test_build_rejects_bad_usage():
    result = subprocess.run([str(STANDIN_SRC / "build")], capture_output=True, text=True)
    assert result.returncode == 2 and "usage" in result.stderr


def test_layout_modes_and_timestamps(standin_zip):
    with zipfile.ZipFile(standin_zip) as archive:
        items = {item.filename: item for item in archive.infolist()}
    names = list(items)
    directories = [n for n in names if n.endswith("/")]
    files = [n for n in names if not n.endswith("/")]
    assert names == sorted(directories) + sorted(files)  # a fixed order
    assert all(name.startswith("openidm/") for name in names)
    for required in REQUIRED:
        assert f"openidm/{required}" in items, required
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    # security/ and logs/ ship empty: keys are generated on first start
    assert [n for n in names if n.startswith("openidm/security/")] == [
        "openidm/security/",
        "openidm/security/.keep",
    ]
    for name, item in items.items():
        mode = item.external_attr >> 16
        assert item.date_time == (2025, 1, 1, 0, 0, 0)
        if name.endswith("/"):
            assert mode == 0o40755, name
        elif name.endswith(".sh"):
            assert mode == 0o100755, name
        else:
            assert mode == 0o100644, name


def test_default_files(dist):
    boot = parse_properties((dist / "resolver/boot.properties").read_text())
    expected = {
        "openidm.port.http": "8080",
        "openidm.port.https": "8443",
        "openidm.port.mutualauth": "8444",
        "openidm.host": "localhost",
        "openidm.auth.clientauthonlyports": "8444",
        "openidm.node.id": "node1",
        "openidm.keystore.type": "JCEKS",
        "openidm.truststore.type": "JKS",
        "openidm.keystore.password": "changeit",
        "openidm.truststore.password": "changeit",
        "openidm.https.keystore.cert.alias": "openidm-localhost",
        "openidm.scheduler.execute.persistent.schedules": "true",
        "openidm.repo.host": "localhost",
        "openidm.repo.port": "5432",
    }
    assert {key: boot.get(key) for key in expected} == expected

    def conf(name):
        return json.loads((dist / "conf" / name).read_text())

    assert conf("cluster.json") == {
        "instanceId": "&{openidm.node.id}",
        "instanceTimeout": 30000,
        "instanceRecoveryTimeout": 30000,
        "instanceCheckInInterval": 5000,
        "instanceCheckInOffset": 0,
        "enabled": True,
    }
    datasource = json.loads((dist / "db/postgresql/conf/datasource.jdbc-default.json").read_text())
    assert datasource["driverClass"] == "org.postgresql.Driver"
    assert datasource["jdbcUrl"] == (
        "jdbc:postgresql://&{openidm.repo.host}:&{openidm.repo.port}/openidm"
    )
    assert (datasource["databaseName"], datasource["username"], datasource["password"]) == (
        "openidm",
        "openidm",
        "openidm",
    )
    assert datasource["connectionTimeout"] == 30000
    assert datasource["connectionPool"] == {
        "type": "hikari",
        "minimumIdle": 20,
        "maximumPoolSize": 50,
    }
    stores = {store["name"]: store["config"] for store in conf("secrets.json")["stores"]}
    assert stores["mainKeyStore"]["file"] == (
        "&{openidm.keystore.location|&{idm.install.dir}/security/keystore.jceks}"
    )
    assert stores["mainKeyStore"]["storePassword"] == "&{openidm.keystore.password}"
    aliases = [a for m in stores["mainKeyStore"]["mappings"] for a in m["aliases"]]
    assert "openidm-localhost" in aliases
    assert stores["mainTrustStore"]["file"] == (
        "&{openidm.truststore.location|&{idm.install.dir}/security/truststore}"
    )
    assert stores["mainTrustStore"]["storePassword"] == "&{openidm.truststore.password}"
    assert conf("secrets.json")["populateDefaults"] is True
    assert conf("webserver.listener-http.json") == {
        "enabled": {"$bool": "&{openidm.http.enabled|true}"},
        "port": {"$int": "&{openidm.port.http|8080}"},
    }
    https = conf("webserver.listener-https.json")
    assert https["secure"] is True and https["port"] == {"$int": "&{openidm.port.https|8443}"}
    assert https["sslCertAlias"] == "&{openidm.https.keystore.cert.alias|openidm-localhost}"
    mutual = conf("webserver.listener-mutualauth.json")
    assert mutual["secure"] is True and mutual["mutualAuth"] is True
    assert mutual["port"] == {"$int": "&{openidm.port.mutualauth|8444}"}
    assert conf("scheduler.json") == {
        "threadPool": {"threadCount": 10},
        "scheduler": {
            "executePersistentSchedules": {
                "$bool": "&{openidm.scheduler.execute.persistent.schedules}"
            }
        },
    }
    system = (dist / "conf/system.properties").read_text().splitlines()
    assert "# openidm.config.repo.enabled=false" in system
    assert "# openidm.fileinstall.enabled=false" in system
