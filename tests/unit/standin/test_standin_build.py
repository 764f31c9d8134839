"""The IDM stand-in (test double) distribution: reproducible zip with PingIDM 8.1's layout and
default files; the product versions of ``--version`` (8.0.0, 8.1.0, 8.1.1)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile

import pytest
from idm_standin.props import parse_properties
from standin_harness import STANDIN_SRC, VERSIONS, ZIP_NAME, build_zip, extract, zip_name

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


UPDATE_SCRIPT = "openidm/db/postgresql/scripts/updates/01-clusterobjects-activation.sql"


def _read(zip_path, name) -> str:
    with zipfile.ZipFile(zip_path) as archive:
        return archive.read(name).decode()


@pytest.mark.parametrize("version", VERSIONS)
def test_each_version_is_reproducible_and_names_its_version(tmp_path, version):
    first = build_zip(tmp_path / "one", version)
    second = build_zip(tmp_path / "two", version)
    assert first.name == f"openidm-standin-{version}.zip"
    assert first.read_bytes() == second.read_bytes()
    checksum = (tmp_path / "one" / f"{first.name}.sha256").read_text()
    assert checksum == f"{hashlib.sha256(first.read_bytes()).hexdigest()}  {first.name}\n"
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == [
        first.name,
        f"{first.name}.sha256",
    ]
    assert _read(first, "openidm/bin/idm_standin/VERSION") == f"{version}\n"
    major_minor = version.rsplit(".", 1)[0]
    readme = _read(first, "openidm/README-TEST-DOUBLE.txt").splitlines()
    assert (
        readme[0]
        == f"IDM stand-in {version} -- a TEST DOUBLE of PingIDM {major_minor}, not the product"
    )
    assert len(readme[1]) == len(readme[0])  # the underline
    assert f"test double of PingIDM {major_minor}, not the product" in _read(
        first, "openidm/startup.sh"
    )
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
    updates = [n for n in names if "/scripts/updates/" in n]
    ddl = _read(first, "openidm/db/postgresql/scripts/openidm.pgsql")
    if version == "8.0.0":
        assert updates == []
        assert "activation" not in ddl
    else:
        assert updates == ["openidm/db/postgresql/scripts/updates/", UPDATE_SCRIPT]
        assert "  activation VARCHAR(16)," in ddl
        script = _read(first, UPDATE_SCRIPT)
        assert "ALTER TABLE openidm.clusterobjects ADD COLUMN activation VARCHAR(16);" in script
        assert "IF NOT EXISTS" not in script  # a second run fails, like a real update script
        assert "updates an 8.0 repository for 8.1" in script.splitlines()[0]


def test_versions_differ_and_the_default_is_8_1_0(tmp_path):
    default = build_zip(tmp_path / "default")
    assert default.name == ZIP_NAME == zip_name("8.1.0")
    explicit = build_zip(tmp_path / "explicit", "8.1.0")
    assert default.read_bytes() == explicit.read_bytes()
    zips = {version: build_zip(tmp_path / version, version).read_bytes() for version in VERSIONS}
    assert len(set(zips.values())) == len(VERSIONS)
    # Only the version-dependent files differ between the two 8.1 releases.
    one = zipfile.ZipFile(tmp_path / "8.1.0" / zip_name("8.1.0"))
    other = zipfile.ZipFile(tmp_path / "8.1.1" / zip_name("8.1.1"))
    with one, other:
        assert one.namelist() == other.namelist()
        differing = [n for n in one.namelist() if one.read(n) != other.read(n)]
    assert differing == ["openidm/README-TEST-DOUBLE.txt", "openidm/bin/idm_standin/VERSION"]


def test_build_refuses_an_unknown_version(tmp_path):
    for bad in ("9.0.0", "8.1", "latest"):
        result = subprocess.run(
            [str(STANDIN_SRC / "build"), str(tmp_path / "out"), "--version", bad],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 2
        assert f"unknown version '{bad}': the stand-in ships 8.0.0, 8.1.0, 8.1.1" in result.stderr
        assert not (tmp_path / "out").exists()
    missing = subprocess.run(
        [str(STANDIN_SRC / "build"), str(tmp_path / "out"), "--version"],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "--version needs a value" in missing.stderr


def test_variant_and_version_together(tmp_path):
    result = subprocess.run(
        [str(STANDIN_SRC / "build"), str(tmp_path), "--version", "8.0.0", "--variant",
         "c11=literals"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "8.0.0" in result.stdout
    target = tmp_path / zip_name("8.0.0")
    secrets = json.loads(_read(target, "openidm/conf/secrets.json"))
    assert secrets["stores"][0]["config"]["storePassword"] == "changeit"
    assert _read(target, "openidm/bin/idm_standin/VERSION") == "8.0.0\n"


def _product_version(bindir) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(bindir)
    return subprocess.run(
        [sys.executable, "-B", "-c", "import idm_standin as m; print(m.PRODUCT_VERSION)"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip


def test_product_version_comes_from_the_baked_file(tmp_path, versioned_zip):
    for version in VERSIONS:
        home = extract(versioned_zip(version), tmp_path / version)
        assert _product_version(home / "bin").stdout == f"{version}\n"
    # The source tree has no VERSION file: 8.1.0.
    source_bin = STANDIN_SRC / "openidm" / "bin"
    assert not (source_bin / "idm_standin" / "VERSION").exists()
    assert _product_version(source_bin).stdout == "8.1.0\n"
    # A damaged file is an error naming it, not a silent default.
    home = extract(versioned_zip("8.0.0"), tmp_path / "damaged")
    (home / "bin" / "idm_standin" / "VERSION").write_text("eight\n")
    damaged = _product_version(home / "bin")
    assert damaged.returncode != 0 and "VERSION holds 'eight', not a version" in damaged.stderr
