"""In-process tests of the IDM stand-in's (test double) parsers: properties, cron, host check,
JDBC URL, passwords, simple-schedule alignment."""

from __future__ import annotations

import datetime
import json

import pytest
from idm_standin import StandinError
from idm_standin.config import Paths, load_listeners
from idm_standin.cron import CronError, CronExpression
from idm_standin.props import (
    Properties,
    PropertyError,
    has_heap_options,
    parse_opts,
    parse_properties,
    resolve,
)
from idm_standin.repo import load_datasource
from idm_standin.scheduler import Schedule
from idm_standin.security import host_matches
from idm_standin.users import hash_password, verify_password

UTC = datetime.UTC


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_properties_file_format():
    text = (
        "# comment\n! also a comment\n\n"
        "openidm.node.id = node7\n"
        "a:b\n"
        "spaced   value with spaces\n"
        "long=one,\\\n    two\n"
        "escaped\\=key=x\\ty\n"
        "later=first\nlater=second\n"
    )
    props = parse_properties(text)
    assert props["openidm.node.id"] == "node7"
    assert props["a"] == "b"
    assert props["spaced"] == "value with spaces"
    assert props["long"] == "one,two"
    assert props["escaped=key"] == "x\ty"
    assert props["later"] == "second"


def test_openidm_opts_system_properties_and_heap_check():
    opts = "-Xmx2048m -Xms2048m -Dopenidm.node.id=node2 -Dx='a b' -Dflag"
    assert parse_opts(opts) == {"openidm.node.id": "node2", "x": "a b", "flag": ""}
    assert has_heap_options(opts)
    assert not has_heap_options("-Dopenidm.node.id=node2")
    assert not has_heap_options("-Xmx1g -Dopenidm.node.id=node2")


def test_layers_and_expressions():
    props = Properties(
        [
            {"openidm.node.id": "from-opts"},
            {"idm.install.dir": "/opt/openidm"},
            {"openidm.node.id": "from-boot", "b": "&{c}", "c": "C", "loop": "&{loop}"},
        ]
    )
    assert props.get("openidm.node.id") == "from-opts"
    assert props.substitute("&{b}-&{missing|x}", "t") == "C-x"
    assert props.substitute("&{missing|&{also.missing|&{idm.install.dir}/sec}}", "t") == (
        "/opt/openidm/sec"
    )
    assert props.substitute("&{missing|}", "t") == ""
    with pytest.raises(PropertyError, match="missing"):
        props.substitute("&{missing}", "conf/x.json")
    with pytest.raises(PropertyError, match="itself"):
        props.get("loop")
    with pytest.raises(PropertyError, match="unterminated"):
        props.substitute("&{open", "t")


def test_typed_wrappers():
    props = Properties([{"p": "8443", "on": "TRUE", "bad": "maybe"}])
    doc = {"port": {"$int": "&{p}"}, "enabled": {"$bool": "&{on}"}, "n": {"$number": "1.5"}}
    assert resolve(doc, props, "t") == {"port": 8443, "enabled": True, "n": 1.5}
    assert resolve({"$bool": "&{x|false}"}, props, "t") is False
    with pytest.raises(PropertyError, match="boolean"):
        resolve({"$bool": "&{bad}"}, props, "t")
    with pytest.raises(PropertyError, match="integer"):
        resolve({"$int": "&{bad}"}, props, "t")
    # a dict with other keys is not a wrapper
    assert resolve({"$int": "1", "other": 2}, props, "t") == {"$int": "1", "other": 2}


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("* * * * * ?", "2025-03-01T10:00:00.400", "2025-03-01T10:00:01"),
        ("*/15 * * * * ?", "2025-03-01T10:00:07", "2025-03-01T10:00:15"),
        ("*/15 * * * * ?", "2025-03-01T10:00:45", "2025-03-01T10:01:00"),
        ("5/20 * * * * ?", "2025-03-01T10:00:25", "2025-03-01T10:00:45"),
        ("0 5,10-12 * * * ?", "2025-03-01T10:05:00", "2025-03-01T10:10:00"),
        ("0 5,10-12 * * * ?", "2025-03-01T10:12:00", "2025-03-01T11:05:00"),
        ("0 0 */6 * * ?", "2025-03-01T13:00:00", "2025-03-01T18:00:00"),
        ("30 0 2 * * ?", "2025-12-31T03:00:00", "2026-01-01T02:00:30"),
        ("0 0 12 ? * MON", "2025-03-01T00:00:00", "2025-03-03T12:00:00"),  # a Saturday
        ("0 0 0 1 JAN ?", "2025-03-01T00:00:00", "2026-01-01T00:00:00"),
        ("0 0 0 * * ? 2027", "2025-03-01T00:00:00", "2027-01-01T00:00:00"),
    ],
)
def test_cron_next_fire_time(expression, after, expected):
    assert CronExpression(expression).next_after(at(after)) == at(expected)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * * *", "6 or 7 fields"),
        ("0 * * * * *", "exactly one of day-of-month and day-of-week"),
        ("0 * * ? * ?", "exactly one of day-of-month and day-of-week"),
        ("? * * * * ?", "only allowed in the day fields"),
        ("0 0 0 L * ?", "not supported"),
        ("61 * * * * ?", "outside"),
        ("0 0 10-5 * * ?", "backwards"),
        ("*/0 * * * * ?", "bad step"),
    ],
)
def test_cron_rejects(expression, message):
    with pytest.raises(CronError, match=message):
        CronExpression(expression)


def test_simple_schedule_triggers_are_epoch_multiples():
    schedule = Schedule("s", True, 300, None, None, "info")
    assert schedule.next_fire_ms(1_000_000) == 1_000_200
    assert schedule.next_fire_ms(1_000_200) == 1_000_500
    cron = Schedule("c", True, None, CronExpression("*/2 * * * * ?"), None, "info")
    assert cron.next_fire_ms(1_700_000_000_500) == 1_700_000_002_000


@pytest.mark.parametrize(
    ("host", "names", "expected"),
    [
        ("localhost", ["localhost"], True),
        ("LocalHost:8443", ["localhost"], True),
        ("idm1.example.com", ["idm.example.com"], False),
        ("idm1.example.com", ["*.example.com"], True),
        ("a.b.example.com", ["*.example.com"], False),
        ("example.com", ["*.example.com"], False),
        ("[::1]:8443", ["::1"], True),
        ("10.0.0.5:8443", ["10.0.0.5"], True),
        ("", ["localhost"], False),
        (None, ["localhost"], False),
        ("lb.example.com.", ["lb.example.com"], True),
    ],
)
def test_tls_host_header_matching(host, names, expected):
    assert host_matches(host, names) is expected


def test_password_hashes():
    stored = hash_password("s3cret")
    assert "s3cret" not in stored and json.loads(stored)["$crypto"]["type"] == "salted-hash"
    assert verify_password(stored, "s3cret")
    assert not verify_password(stored, "other")
    assert stored != hash_password("s3cret")  # salted
    assert verify_password("openidm-admin", "openidm-admin")  # the DDL's plain default
    assert not verify_password("openidm-admin", "openidm-admin2")
    assert not verify_password(None, "x")


def _paths(tmp_path) -> Paths:
    (tmp_path / "conf").mkdir(exist_ok=True)
    return Paths(tmp_path, tmp_path, tmp_path, tmp_path / "boot.properties")


def _datasource(tmp_path, url: str, **extra):
    paths = _paths(tmp_path)
    doc = {
        "driverClass": "org.postgresql.Driver",
        "jdbcUrl": url,
        "databaseName": "openidm",
        "username": "openidm",
        "password": "openidm",
        "connectionTimeout": 30000,
        **extra,
    }
    (paths.conf / "datasource.jdbc-default.json").write_text(json.dumps(doc))
    props = Properties([{"openidm.repo.host": "db1", "openidm.repo.port": "5433"}])
    return load_datasource(paths, props)


def test_datasource_jdbc_url(tmp_path):
    ds = _datasource(tmp_path, "jdbc:postgresql://&{openidm.repo.host}:&{openidm.repo.port}/idm")
    assert (ds.hosts, ds.dbname, ds.user) == ((("db1", 5433),), "idm", "openidm")
    assert ds.describe() == "db1:5433/idm"
    assert ds.connect_timeout == 5  # 30 s is capped low
    ds = _datasource(tmp_path, "jdbc:postgresql://a,b:6000/?sslmode=require")
    assert ds.hosts == (("a", 5432), ("b", 6000)) and ds.dbname == "openidm"
    assert ds.sslmode == "require"
    with pytest.raises(StandinError, match="not of the form"):
        _datasource(tmp_path, "jdbc:mysql://db/openidm")
    with pytest.raises(StandinError, match="driverClass"):
        _datasource(tmp_path, "jdbc:postgresql://db/x", driverClass="com.mysql.Driver")


def test_listeners_need_one_enabled(tmp_path):
    paths = _paths(tmp_path)
    off = {"enabled": {"$bool": "&{openidm.http.enabled|true}"}, "port": 8080}
    (paths.conf / "webserver.listener-http.json").write_text(json.dumps(off))
    props = Properties([{"openidm.http.enabled": "false"}])
    with pytest.raises(StandinError, match="at least one"):
        load_listeners(paths, props)
    listeners = load_listeners(paths, Properties([{}]))
    assert [(x.port, x.secure) for x in listeners] == [(8080, False)]
