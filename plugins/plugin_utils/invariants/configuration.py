# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Configuration rules: what every node must configure the same way, and soundly.

Rules ``cluster-settings`` (5), ``config-mode`` (5), ``one-version`` (6) and
``persisted-schedules`` (12); see ``registry``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.common import (
    name_list,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.context import (
    Context,
    bad_field,
    disagreement,
    section,
    valid_fields,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.values import (
    Check,
    is_bool,
    is_list,
    is_mapping,
    is_non_negative_int,
    is_positive_int,
    is_text,
    show,
)

# --- cluster-settings ---------------------------------------------------------------------------

TIMINGS = ("instanceTimeout", "instanceRecoveryTimeout", "instanceCheckInInterval")
_CLUSTER_CHECKS: tuple[Check, ...] = (
    ("enabled", is_bool, "true or false"),
    ("instanceTimeout", is_positive_int, "a positive integer (milliseconds)"),
    ("instanceRecoveryTimeout", is_positive_int, "a positive integer (milliseconds)"),
    ("instanceCheckInInterval", is_positive_int, "a positive integer (milliseconds)"),
    ("instanceCheckInOffset", is_non_negative_int, "an integer of 0 or more (milliseconds)"),
)
_TIMING_KEYS = (*TIMINGS, "instanceCheckInOffset")
FIX_CLUSTER = (
    "set the conf/cluster.json timings once for the whole cluster group: integers, "
    "instanceTimeout >= 2 x instanceCheckInInterval, instanceRecoveryTimeout >= "
    "instanceCheckInInterval, instanceCheckInOffset < instanceTimeout, instanceCheckInInterval "
    "at least 100 ms and every timing at most one day (86400000 ms)"
)
# Bounds of a sane cluster.json (milliseconds): a check-in every few milliseconds floods the
# repository, and a timeout of more than a day means a dead node is never recovered.
MIN_CHECKIN_INTERVAL_MS = 100
MAX_TIMING_MS = 86_400_000


def check_cluster_settings(ctx: Context) -> None:
    """Sound, identical cluster.json timings, and clustering enabled on every node."""
    timings: dict[str, tuple[int, ...]] = {}
    for host, node in ctx.nodes.items():
        cluster = section(ctx, "cluster-settings", host, node, "cluster")
        if cluster is None:
            continue
        valid = valid_fields(ctx, "cluster-settings", host, "cluster", cluster, _CLUSTER_CHECKS)
        if valid.get("enabled") is False:
            message = f"{host} is in the cluster group but has clustering disabled"
            fix = (
                f"enable clustering on {host}, or move it out of the cluster group and give it "
                "its own repository"
            )
            ctx.add("cluster-settings", [host], message, fix)
        if all(key in valid for key in _TIMING_KEYS):
            values = tuple(int(valid[key]) for key in _TIMING_KEYS)  # type: ignore[call-overload]
            _timing_relations(ctx, host, *values)
            timings[host] = values
    what = "the cluster.json timing"
    disagreement(ctx, "cluster-settings", what, timings, _show_timings, FIX_CLUSTER)


def _show_timings(values: tuple[int, ...]) -> str:
    pairs = zip(_TIMING_KEYS, values, strict=True)
    return ", ".join(f"{key}={value}" for key, value in pairs)


def _timing_relations(
    ctx: Context, host: str, timeout: int, recovery: int, interval: int, offset: int
) -> None:
    if offset >= timeout:
        message = (
            f"instanceCheckInOffset ({offset} ms) is not below instanceTimeout ({timeout} ms), so "
            "a node's first check-in comes after the others already count it as down"
        )
        ctx.problem("cluster-settings", host, message, FIX_CLUSTER)
    if interval < MIN_CHECKIN_INTERVAL_MS:
        message = (
            f"instanceCheckInInterval ({interval} ms) is below {MIN_CHECKIN_INTERVAL_MS} ms: every "
            "node would write its check-in to the repository continuously"
        )
        ctx.problem("cluster-settings", host, message, FIX_CLUSTER)
    absurd = [
        f"{key}={value}"
        for key, value in zip(_TIMING_KEYS, (timeout, recovery, interval, offset), strict=True)
        if value > MAX_TIMING_MS
    ]
    if absurd:
        message = (
            f"{', '.join(absurd)} ms exceed one day ({MAX_TIMING_MS} ms): a node that dies would "
            "not be recovered, nor its schedules taken over, for that long"
        )
        ctx.problem("cluster-settings", host, message, FIX_CLUSTER)
    if timeout < 2 * interval:
        message = (
            f"instanceTimeout ({timeout} ms) is less than twice instanceCheckInInterval "
            f"({interval} ms), so one late check-in makes a node look down"
        )
        ctx.problem("cluster-settings", host, message, FIX_CLUSTER)
    if recovery < interval:
        message = (
            f"instanceRecoveryTimeout ({recovery} ms) is shorter than "
            f"instanceCheckInInterval ({interval} ms)"
        )
        ctx.problem("cluster-settings", host, message, FIX_CLUSTER)


# --- config-mode --------------------------------------------------------------------------------

_CONFIG_CHECKS: tuple[Check, ...] = (
    ("repo_enabled", is_bool, "true or false"),
    ("fileinstall_enabled", is_bool, "true or false"),
)
FIX_CONFIG = (
    "choose one configuration mode for the whole cluster group (openidm.config.repo.enabled and "
    "openidm.fileinstall.enabled, at least one of them true)"
)


def check_config_mode(ctx: Context) -> None:
    """One configuration mode on every node, and never both sources off."""
    modes: dict[str, tuple[bool, bool]] = {}
    blind = []
    for host, node in ctx.nodes.items():
        config = section(ctx, "config-mode", host, node, "config")
        if config is None:
            continue
        valid = valid_fields(ctx, "config-mode", host, "config", config, _CONFIG_CHECKS)
        if len(valid) == 2:
            repo, files = bool(valid["repo_enabled"]), bool(valid["fileinstall_enabled"])
            modes[host] = (repo, files)
            if not repo and not files:
                blind.append(host)
    if blind:
        message = (
            f"{name_list(blind)}: openidm.config.repo.enabled and openidm.fileinstall.enabled are "
            "both false, so the node reads no configuration changes at all"
        )
        ctx.add("config-mode", blind, message, FIX_CONFIG)
    what = "the configuration mode"
    disagreement(ctx, "config-mode", what, modes, _show_config, FIX_CONFIG)
    for key, what, fix in _AS_CODE:
        digests = {}
        for host, node in ctx.nodes.items():
            config = node.get("config") if is_mapping(node) else None
            value = config.get(key) if is_mapping(config) else None
            if value is None:
                continue  # not described (a role imported alone): nothing to compare
            if not is_text(value):
                bad_field(ctx, "config-mode", host, f"config.{key}", value, "a checksum (text)")
                continue
            digests[host] = str(value)
        disagreement(ctx, "config-mode", what, digests, _show_digest, fix)


# Configuration and connectors as code: checksums of what each node would get.
_AS_CODE = (
    (
        "objects_digest",
        "the configuration objects deployed as code",
        "give idm_config_objects and idm_config_src once for the whole cluster group (group_vars), "
        "not per host",
    ),
    (
        "connectors_digest",
        "the connector jars",
        "give idm_connectors once for the whole cluster group (group_vars), not per host",
    ),
)


def _show_digest(digest: str) -> str:
    return f"checksum {digest[:12]}"


def _show_config(mode: tuple[bool, bool]) -> str:
    return f"repo_enabled={show(mode[0])}, fileinstall_enabled={show(mode[1])}"


# --- one-version --------------------------------------------------------------------------------

FIX_VERSION = "install the same IDM version on every node (upgrade the others first)"
FIX_VERSION_CHANGE = (
    "change the version of a deployed cluster with playbooks/upgrade.yml (backup, the release's "
    "repository update scripts once, the nodes in order), or put back the installed idm_version"
)
FIX_DOWNGRADE = (
    "a cluster does not go back to an older release in place: restore the backup taken before the "
    "upgrade (playbooks/restore.yml) with the old idm_version, or put back the installed one"
)
FIX_MAJOR = (
    "the collection upgrades within PingIDM 8 (8.0 to 8.1, 8.1.x patches); follow the vendor's "
    "upgrade guide for an older release, or deploy the new one on a new repository"
)
_VERSION = re.compile(r"^\d+(?:\.\d+)*$")


def version_key(version: str) -> tuple[int, ...] | None:
    """``8.1.0`` -> (8, 1, 0); None for a version that is not dot-separated numbers."""
    text = version.strip()
    return tuple(int(part) for part in text.split(".")) if _VERSION.match(text) else None


def check_one_version(ctx: Context) -> None:
    """One IDM version (trimmed string) on every node; a deployed node changes version only
    forward, within major version 8's line, and only in an upgrade (``upgrade``: true)."""
    versions: dict[str, str] = {}
    for host, node in ctx.nodes.items():
        version = node.get("version")
        if is_text(version):
            versions[host] = str(version).strip()
        else:
            bad_field(ctx, "one-version", host, "version", version, "a non-empty string")
    disagreement(ctx, "one-version", "the IDM version", versions, show, FIX_VERSION)
    upgrade = ctx.raw.get("upgrade") is True
    for host, target in versions.items():
        installed = ctx.fact(host, "installed_version", "one-version", is_text, "a string")
        if installed is not None and installed.strip() != target:
            _version_change(ctx, host, installed.strip(), target, upgrade)


def _version_change(ctx: Context, host: str, installed: str, target: str, upgrade: bool) -> None:
    old, new = version_key(installed), version_key(target)
    change = f"runs IDM {installed} and the inventory says {target}"
    if old is None or new is None:
        ctx.problem("one-version", host, f"{change}: not versions of the form 8.1.0", FIX_MAJOR)
    elif new < old:
        ctx.problem("one-version", host, f"{change}, an older release", FIX_DOWNGRADE)
    elif old[0] != new[0] or new[0] != 8:
        ctx.problem("one-version", host, f"{change}, another major version", FIX_MAJOR)
    elif not upgrade:
        ctx.problem("one-version", host, f"{change} outside an upgrade", FIX_VERSION_CHANGE)


# --- persisted-schedules ------------------------------------------------------------------------

# A schedule without "enabled" is enabled and one without "persisted" is kept in memory, as in the
# product's schedule configuration; ill-typed values are reported.
_SCHEDULE_DEFAULTS = {"enabled": True, "persisted": False}
_SCHEDULE_CHECKS: tuple[Check, ...] = (
    ("name", is_text, "a non-empty string"),
    ("enabled", is_bool, "true or false"),
    ("persisted", is_bool, "true or false"),
)
FIX_SCHEDULE_NAMES = (
    "give every schedule of idm_schedules its own name without '/', '\\', '..', glob "
    "characters (*, ?, [, ]) or control characters: it becomes the file conf/schedule-<name>.json"
)
_NOT_A_FILE_NAME = re.compile(r"[/\\*?\[\]\x00-\x1f\x7f]|\.\.")
_GLOB = frozenset("*?[]")
FIX_SCHEDULES = (
    "set persisted: true on every enabled schedule, and let at least one active (not standby) "
    "node execute persistent schedules"
)


@dataclass
class _Schedules:
    with_enabled: list[str] = field(default_factory=list)
    not_persisted: dict[str, list[str]] = field(default_factory=dict)
    persisted: list[str] = field(default_factory=list)
    executors: list[str] = field(default_factory=list)


def check_persisted_schedules(ctx: Context) -> None:
    """Enabled schedules are persisted on a multi-node cluster, and an active node runs them."""
    seen = _Schedules()
    for host, node in ctx.nodes.items():
        standby = node.get("standby")
        if not is_bool(standby):
            bad_field(ctx, "persisted-schedules", host, "standby", standby, "true or false")
        scheduler = section(ctx, "persisted-schedules", host, node, "scheduler")
        if scheduler is not None:
            _scan_scheduler(ctx, host, scheduler, standby is False, seen)
    if len(seen.with_enabled) > 1:
        for name, hosts in seen.not_persisted.items():
            message = (
                f"schedule {show(name)} is enabled but not persisted on {name_list(hosts)}, so it "
                "runs on every node instead of once for the cluster"
            )
            ctx.add("persisted-schedules", hosts, message, FIX_SCHEDULES)
    if seen.persisted and not seen.executors:
        message = (
            f"persisted schedules are enabled on {name_list(seen.persisted)} but no active (not "
            "standby) node executes persistent schedules, so they never run"
        )
        ctx.add("persisted-schedules", seen.persisted, message, FIX_SCHEDULES)


def _scan_scheduler(
    ctx: Context, host: str, scheduler: Mapping[str, object], active: bool, seen: _Schedules
) -> None:
    checks: tuple[Check, ...] = (("execute_persistent", is_bool, "true or false"),)
    valid = valid_fields(ctx, "persisted-schedules", host, "scheduler", scheduler, checks)
    if active and valid.get("execute_persistent") is True:
        seen.executors.append(host)
    schedules = scheduler.get("schedules")
    if not is_list(schedules):
        bad_field(ctx, "persisted-schedules", host, "scheduler.schedules", schedules, "a list")
        return
    enabled = False
    names: set[str] = set()
    for index, item in enumerate(schedules):  # type: ignore[arg-type]
        path = f"scheduler.schedules[{index}]"
        if not is_mapping(item):
            bad_field(ctx, "persisted-schedules", host, path, item, "a dictionary")
            continue
        _schedule_name(ctx, host, item.get("name"), names)
        item = {**_SCHEDULE_DEFAULTS, **item}
        entry = valid_fields(ctx, "persisted-schedules", host, path, item, _SCHEDULE_CHECKS)
        if len(entry) < len(_SCHEDULE_CHECKS) or not entry["enabled"]:
            continue
        enabled = True
        if entry["persisted"]:
            seen.persisted.append(host)
        else:
            seen.not_persisted.setdefault(str(entry["name"]), []).append(host)
    if enabled:
        seen.with_enabled.append(host)


def _schedule_name(ctx: Context, host: str, name: object, names: set[str]) -> None:
    """A schedule name is a file name (conf/schedule-<name>.json): distinct on the node, not a
    path, no glob or control characters."""
    if not is_text(name):
        return  # reported with the other fields
    text = str(name)
    if text not in names and _NOT_A_FILE_NAME.search(text) is None:
        names.add(text)
        return
    if text in names:
        problem = "is used by more than one schedule (one file, one of them is lost)"
    elif "/" in text or "\\" in text or ".." in text:
        problem = "looks like a path: the schedule file would be written outside conf/"
    elif _GLOB.intersection(text):
        problem = (
            "holds glob characters, which make its file name a pattern to every tool that "
            "lists conf/schedule-*.json"
        )
    else:
        problem = "holds control characters"
    message = f"schedule name {show(text)} {problem}"
    ctx.problem("persisted-schedules", host, message, FIX_SCHEDULE_NAMES)
