"""Configuration loading of the IDM stand-in (test double).

Reads the same files PingIDM 8.1 reads (``resolver/boot.properties``, ``conf/system.properties``,
``conf/cluster.json``, ``conf/scheduler.json``, ``conf/webserver.listener-*.json``,
``conf/webserver.json``) and resolves their property expressions.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idm_standin import StandinError
from idm_standin.props import (
    Properties,
    PropertyError,
    parse_opts,
    parse_properties,
    resolve,
    to_bool,
    to_int,
)


@dataclass(frozen=True)
class Paths:
    install: Path  # OPENIDM_HOME, idm.install.dir
    instance: Path  # PROJECT_HOME, idm.instance.dir
    data: Path  # working location, idm.data.dir
    boot_file: Path

    @property
    def conf(self) -> Path:
        return self.instance / "conf"


def boot_file_for(install: Path, instance: Path) -> Path:
    """The project's resolver/boot.properties when it has one, else the installation's."""
    candidate = instance / "resolver" / "boot.properties"
    return candidate if candidate.is_file() else install / "resolver" / "boot.properties"


def _read_properties_file(path: Path, required: bool) -> dict[str, str]:
    try:
        return parse_properties(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if required:
            raise StandinError(f"boot properties file {path} not found") from None
        return {}
    except OSError as exc:
        raise StandinError(f"cannot read {path}: {exc.strerror}") from exc


def load_properties(paths: Paths, openidm_opts: str) -> Properties:
    """Build the property lookup: OPENIDM_OPTS -D > launcher built-ins > system.properties >
    boot.properties."""
    boot = _read_properties_file(paths.boot_file, required=True)
    system = _read_properties_file(paths.conf / "system.properties", required=False)
    try:
        opts = parse_opts(openidm_opts)
    except PropertyError as exc:
        raise StandinError(str(exc)) from exc
    builtins = {
        "idm.install.dir": str(paths.install),
        "idm.instance.dir": str(paths.instance),
        "idm.data.dir": str(paths.data),
        "launcher.install.location": str(paths.install),
        "launcher.project.location": str(paths.instance),
        "launcher.working.location": str(paths.data),
    }
    return Properties([opts, builtins, system, boot])


def read_conf(path: Path, props: Properties, required: bool = True) -> dict[str, Any] | None:
    """Read one ``conf/*.json`` file and resolve its property expressions."""
    where = f"conf/{path.name}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise StandinError(f"configuration file {path} is missing") from None
        return None
    except OSError as exc:
        raise StandinError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StandinError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise StandinError(f"{path} must hold a JSON object")
    try:
        return resolve(document, props, where)
    except PropertyError as exc:
        raise StandinError(str(exc)) from exc


@dataclass(frozen=True)
class ClusterConfig:
    instance_id: str
    instance_timeout_ms: int
    recovery_timeout_ms: int
    checkin_interval_ms: int
    checkin_offset_ms: int
    enabled: bool


def load_cluster(paths: Paths, props: Properties) -> ClusterConfig:
    doc = read_conf(paths.conf / "cluster.json", props)
    where = "conf/cluster.json"

    def number(key: str, default: int, minimum: int) -> int:
        try:
            value = to_int(doc.get(key, default), f"{where} {key}")
        except PropertyError as exc:
            raise StandinError(str(exc)) from exc
        if value < minimum:
            raise StandinError(f"{where} {key} must be at least {minimum} (is {value})")
        return value

    try:
        enabled = to_bool(doc.get("enabled", True), f"{where} enabled")
    except PropertyError as exc:
        raise StandinError(str(exc)) from exc
    return ClusterConfig(
        instance_id=str(doc.get("instanceId") or "").strip(),
        instance_timeout_ms=number("instanceTimeout", 30000, 1),
        recovery_timeout_ms=number("instanceRecoveryTimeout", 30000, 0),
        checkin_interval_ms=number("instanceCheckInInterval", 5000, 10),
        checkin_offset_ms=number("instanceCheckInOffset", 0, 0),
        enabled=enabled,
    )


@dataclass(frozen=True)
class Listener:
    name: str  # file name, e.g. webserver.listener-https.json
    port: int
    secure: bool
    mutual_auth: bool
    cert_alias: str


def load_listeners(paths: Paths, props: Properties) -> list[Listener]:
    """Return the enabled listeners; IDM refuses to start without one."""
    read_conf(paths.conf / "webserver.json", props, required=False)  # must be valid when present
    listeners = []
    files = sorted(paths.conf.glob("webserver.listener-*.json"))
    for path in files:
        doc = read_conf(path, props)
        where = f"conf/{path.name}"
        try:
            if not to_bool(doc.get("enabled", False), f"{where} enabled"):
                continue
            port = to_int(doc.get("port", 8080), f"{where} port")
            secure = to_bool(doc.get("secure", False), f"{where} secure")
            mutual = to_bool(doc.get("mutualAuth", False), f"{where} mutualAuth") and secure
        except PropertyError as exc:
            raise StandinError(str(exc)) from exc
        if not 0 < port < 65536:
            raise StandinError(f"{where} port {port} is out of range")
        alias = str(doc.get("sslCertAlias") or "openidm-localhost")
        listeners.append(Listener(path.name, port, secure, mutual, alias))
    if not listeners:
        raise StandinError(
            "no enabled conf/webserver.listener-*.json found in "
            f"{paths.conf} ({len(files)} listener file(s), none enabled); IDM needs at least one "
            "enabled listener to start"
        )
    ports = [listener.port for listener in listeners]
    duplicates = sorted({p for p in ports if ports.count(p) > 1})
    if duplicates:
        raise StandinError(f"several enabled listeners use the same port(s) {duplicates}")
    return listeners


def load_execute_persistent(paths: Paths, props: Properties) -> bool:
    doc = read_conf(paths.conf / "scheduler.json", props, required=False) or {}
    scheduler = doc.get("scheduler") or {}
    try:
        return to_bool(scheduler.get("executePersistentSchedules", True), "conf/scheduler.json")
    except PropertyError as exc:
        raise StandinError(str(exc)) from exc


def config_change_mode(props: Properties) -> dict[str, bool]:
    """The two conf/system.properties switches; commented out (absent) means true."""
    result = {}
    for key in ("openidm.config.repo.enabled", "openidm.fileinstall.enabled"):
        try:
            result[key] = props.get_bool(key, True)
        except PropertyError as exc:
            raise StandinError(str(exc)) from exc
    return result


def hostname() -> str:
    return os.uname().nodename
