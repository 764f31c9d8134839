"""Metrics of the IDM stand-in (test double): the Prometheus endpoint behind its basic
authentication filter, conf/metrics.json, the metrics API, the variant for disabled metrics."""

from __future__ import annotations

import re

import pytest
from idm_standin.metrics import basic_credentials, java_double
from standin_harness import request

PROM = "/openidm/metrics/prometheus"
FAMILIES = ("idm_jvm_available_cpus", "idm_jvm_max_memory", "idm_jvm_used_memory")


def _families(text: str) -> set[str]:
    return set(re.findall(r"^# TYPE (\S+) ", text, flags=re.MULTILINE))


def _scrape(node, auth):
    return request(node.http_port, "GET", PROM, auth=auth)


def test_prometheus_endpoint_needs_the_prometheus_credentials(make_node, repo_db):
    node = make_node(
        "metrics", repo_db,
        boot={"openidm.prometheus.username": "scraper", "openidm.prometheus.password": "S3cret:x"},
    )  # fmt: skip
    node.write_conf("metrics.json", {"enabled": True})
    node.start().wait_ready()

    ok = _scrape(node, ("basic", "scraper", "S3cret:x"))
    assert ok.status == 200, ok.body
    assert ok.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert ok.headers["X-IDM-Node-Id"] == "metrics"
    text = ok.body.decode()
    assert set(FAMILIES) <= _families(text)
    assert 'standin_node_info{node_id="metrics",} 1.0' in text
    # -Xmx1024m of startup.sh when OPENIDM_OPTS is unset
    assert re.search(r"^idm_jvm_max_memory \d\.\d+E9$", text, flags=re.MULTILINE)

    assert _scrape(node, None).status == 401
    assert _scrape(node, ("basic", "scraper", "wrong")).status == 401
    assert _scrape(node, ("basic", "prometheus", "prometheus")).status == 401  # shipped default
    assert _scrape(node, "anonymous").status == 401
    assert _scrape(node, "admin").status == 401  # a filter of its own, not the admin role
    assert _scrape(node, ("basic", "openidm-admin", "openidm-admin")).status == 401
    assert _scrape(node, ("scraper", "S3cret:x")).status == 401  # X-OpenIDM headers: not Basic
    assert "S3cret" not in node.log_text() + node.output()


def test_shipped_credentials_and_disabled_metrics(make_node, repo_db):
    """As shipped: metrics.json disabled, prometheus/prometheus; the default variant answers 200
    without any idm_ family, the metrics API 400."""
    node = make_node("plain", repo_db)
    node.start().wait_ready()
    shipped = _scrape(node, ("basic", "prometheus", "prometheus"))
    assert shipped.status == 200
    assert _families(shipped.body.decode()) == {"standin_node_info"}
    api = request(node.http_port, "GET", "/openidm/metrics/api?_queryFilter=true", auth="admin")
    assert api.status == 400


def test_variant_notfound_for_disabled_metrics(make_node, repo_db):
    node = make_node("nf", repo_db, boot={"standin.variant.metrics": "notfound"})
    node.start().wait_ready()
    assert _scrape(node, ("basic", "prometheus", "prometheus")).status == 404
    assert _scrape(node, None).status == 401  # the filter comes first


def test_metrics_api_is_for_the_admin(make_node, repo_db):
    node = make_node("api", repo_db)
    node.write_conf("metrics.json", {"enabled": True})
    node.start().wait_ready()
    path = "/openidm/metrics/api?_queryFilter=true"
    reply = request(node.http_port, "GET", path, auth="admin")
    assert reply.status == 200
    assert {item["_id"] for item in reply.json["result"]} >= {"jvm.max-memory", "jvm.used-memory"}
    assert request(node.http_port, "GET", path, auth="anonymous").status == 403
    assert request(node.http_port, "GET", path).status == 401


def test_bad_metrics_json_or_variant_stops_the_start(make_node, repo_db):
    node = make_node("bad", repo_db, boot={"standin.variant.metrics": "maybe"})
    node.start()
    assert node.wait_exit() == 1
    assert "standin.variant.metrics=maybe" in node.log_text()
    other = make_node("bad2", repo_db)
    other.write_conf("metrics.json", {"enabled": "yes"})
    other.start()
    assert other.wait_exit() == 1
    assert "conf/metrics.json enabled" in other.log_text()


@pytest.mark.parametrize(
    ("value", "text"),
    [(8, "8.0"), (0, "0.0"), (1073741824, "1.073741824E9"), (536870912, "5.36870912E8"),
     (12.5, "12.5"), (10_000_000, "1.0E7")],
)  # fmt: skip
def test_java_double(value, text):
    assert java_double(value) == text


def test_basic_credentials():
    assert basic_credentials("Basic dTpwOnE=") == ("u", "p:q")
    assert basic_credentials("basic dTpwOnE=") == ("u", "p:q")
    assert basic_credentials("Basic !!") is None
    assert basic_credentials("Basic dXNlcg==") is None  # no colon
    assert basic_credentials("Bearer x") is None
    assert basic_credentials(None) is None
