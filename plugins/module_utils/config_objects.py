# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PingIDM configuration objects as code: names, files and comparison. Pure, no I/O.

IDM's configuration lives in its repository; every ``conf/*.json`` file is the view of one
object. A single-instance object ``sync`` is ``sync.json``; a factory configuration's instance
``provisioner.openicf/ldap`` is ``provisioner.openicf-ldap.json`` (the first hyphen separates the
factory from the instance name). Shared by the ``config_objects`` filter (what to deploy) and the
``idm_config`` module (deploying over REST).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

PID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._]{0,200}(/[A-Za-z0-9][A-Za-z0-9._-]{0,200})?$")
META = ("_id", "_rev")

# Objects the collection already writes from its own variables: deploying them as code too would
# give two owners to one file.
RESERVED = {
    "cluster": "idm_cluster_* variables",
    "scheduler": "idm_scheduler_execute_persistent_schedules",
    "schedule/*": "idm_schedules",
    "webserver.listener/*": "idm_listeners",
    "datasource.jdbc/*": "the idm_repo_* variables",
    "repo.jdbc": "the repository phase",
    "repo.ds": "the repository phase (it is removed: the cluster uses PostgreSQL)",
    "secrets": "idm_secrets_* and the keystore variables",
    "metrics": "idm_metrics_enabled",
}


def pid_of(file_name: str) -> str:
    """``sync.json`` -> ``sync``, ``provisioner.openicf-ldap.json`` -> the factory PID
    ``provisioner.openicf/ldap``."""
    stem = file_name[: -len(".json")] if file_name.endswith(".json") else file_name
    factory, dash, instance = stem.partition("-")
    return f"{factory}/{instance}" if dash else stem


def file_of(pid: str) -> str:
    """The ``conf/`` file name of a PID (the inverse of :func:`pid_of`)."""
    return pid.replace("/", "-", 1) + ".json"


def reserved_by(pid: str) -> str | None:
    """The variable that already manages ``pid``, or None."""
    for pattern, owner in RESERVED.items():
        if fnmatch.fnmatchcase(pid, pattern):
            return owner
    return None


def matches_any(pid: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(pid, str(p)) for p in patterns)


def strip_meta(document: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in META}


def is_encrypted(value: Any) -> bool:
    """A value IDM encrypted (``{"$crypto": {...}}``): what it holds cannot be compared."""
    return isinstance(value, Mapping) and set(value) == {"$crypto"}


def same(wanted: Any, current: Any) -> bool:
    """Whether ``current`` (as IDM returns it) is ``wanted``; a field IDM encrypted counts as
    equal to the value wanted there, since only IDM can decrypt it."""
    if is_encrypted(current) and not is_encrypted(wanted):
        return True
    if isinstance(wanted, Mapping) and isinstance(current, Mapping):
        return set(wanted) == set(current) and all(same(wanted[k], current[k]) for k in wanted)
    if isinstance(wanted, list) and isinstance(current, list):
        return len(wanted) == len(current) and all(map(same, wanted, current))
    return type(wanted) is type(current) and wanted == current


def render(document: Mapping[str, Any]) -> str:
    """The file content the collection writes for an object (stable: sorted keys, 4 spaces)."""
    return json.dumps(strip_meta(document), indent=4, sort_keys=True, ensure_ascii=False) + "\n"
