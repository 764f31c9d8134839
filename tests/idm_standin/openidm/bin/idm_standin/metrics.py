"""Metrics of the IDM stand-in (test double): ``/openidm/metrics/prometheus`` and ``/metrics/api``.

What PingIDM documents and the stand-in does:

- metrics are collected only when ``conf/metrics.json`` has ``"enabled": true`` (the distribution
  ships it ``false``); the file is read at start-up;
- ``/openidm/metrics/prometheus`` is protected by a basic authentication filter whose
  credentials are ``openidm.prometheus.username`` / ``openidm.prometheus.password``
  (``resolver/boot.properties``; since IDM 7 no longer a role): only HTTP Basic with exactly those
  credentials is let in. No
  credentials, other credentials, the admin and the anonymous headers all get ``401``;
- ``/openidm/metrics/api?_queryFilter=true`` is a REST resource for the admin; with metrics
  disabled it answers ``400``;
- Prometheus names start with ``idm_`` and use underscores; the text exposition format 0.0.4,
  with Java's number formatting (``8.0``, ``1.073741824E9``) and a trailing comma after labels.

What the endpoint serves while metrics are disabled is not documented: ``standin.variant.metrics``
``empty`` (default: ``200`` with no ``idm_`` family, the stricter variant, since a check of the
status code alone passes) or ``notfound`` (``404``).

``standin_node_info{node_id="..."}`` is a family of the test double only (PingIDM has none like
it): it lets a test see which node answered a scrape.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import resource
from dataclasses import dataclass

from idm_standin import StandinError
from idm_standin.config import Paths, read_conf
from idm_standin.props import Properties, PropertyError, to_bool

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_HEAP = re.compile(r"(?:^|\s)-Xmx(\d+)([kKmMgG]?)(?=\s|$)")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


@dataclass(frozen=True)
class MetricsConfig:
    enabled: bool
    username: str | None
    password: str | None
    disabled_variant: str  # "empty" or "notfound"
    node_id: str
    max_memory: int


def load(paths: Paths, props: Properties, node_id: str, openidm_opts: str) -> MetricsConfig:
    doc = read_conf(paths.conf / "metrics.json", props, required=False) or {}
    try:
        enabled = to_bool(doc.get("enabled", False), "conf/metrics.json enabled")
    except PropertyError as exc:
        raise StandinError(str(exc)) from exc
    variant = (props.get("standin.variant.metrics") or "empty").strip().lower()
    if variant not in ("empty", "notfound"):
        raise StandinError(f"standin.variant.metrics={variant}: expected one of empty, notfound")
    heap = _HEAP.findall(openidm_opts)
    number, unit = heap[-1] if heap else ("2048", "m")  # the product's default: 2 GB
    return MetricsConfig(
        enabled=enabled,
        username=props.get("openidm.prometheus.username"),
        password=props.get("openidm.prometheus.password"),
        disabled_variant=variant,
        node_id=node_id,
        max_memory=int(number) * _UNITS[unit.lower()],
    )


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """(user, password) of an HTTP Basic ``Authorization`` header, else None."""
    if not authorization or authorization[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def allowed(config: MetricsConfig, authorization: str | None) -> bool:
    """The basic authentication filter: exactly the configured Prometheus credentials."""
    given = basic_credentials(authorization)
    if given is None or not config.username or config.password is None:
        return False
    return hmac.compare_digest(given[0].encode(), config.username.encode()) and (
        hmac.compare_digest(given[1].encode(), config.password.encode())
    )


def java_double(value: float) -> str:
    """``Double.toString`` for the values served here (what Prometheus' Java client writes)."""
    value = float(value)
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "." in text or "e" in text else text + ".0"
    mantissa, exponent = f"{value:.15E}".split("E")
    mantissa = mantissa.rstrip("0")
    mantissa += "0" if mantissa.endswith(".") else ""
    return f"{mantissa}E{int(exponent)}"


def _gauges(config: MetricsConfig) -> list[tuple[str, str, float]]:
    used = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return [
        ("jvm.available-cpus", "Number of processors available to the JVM", os.cpu_count() or 1),
        ("jvm.max-memory", "Maximum memory the JVM will attempt to use", config.max_memory),
        ("jvm.used-memory", "Memory the JVM uses", used),
    ]


def prometheus_text(config: MetricsConfig) -> str:
    """The exposition text: nothing of IDM while metrics are disabled."""
    lines: list[str] = []
    if config.enabled:
        for metric_id, help_text, value in _gauges(config):
            name = "idm_" + re.sub(r"[^a-zA-Z0-9]+", "_", metric_id)
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            lines.append(f"{name} {java_double(value)}")
    node = config.node_id.replace("\\", "\\\\").replace('"', '\\"')
    lines += [
        "# HELP standin_node_info Node that answered (IDM stand-in, test double only)",
        "# TYPE standin_node_info gauge",
        f'standin_node_info{{node_id="{node}",}} 1.0',
    ]
    return "\n".join(lines) + "\n"


def api_result(config: MetricsConfig) -> list[dict]:
    """``/openidm/metrics/api?_queryFilter=true``: the gauges as Dropwizard-style objects."""
    return [
        {"_id": metric_id, "value": value, "_type": "gauge"}
        for metric_id, _help, value in _gauges(config)
    ]
