"""Filter that decides which managed files to write and which unmanaged ones to remove."""

from __future__ import annotations

import fnmatch
import hashlib
import posixpath
from collections.abc import Iterable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: file_changes
short_description: Decide which managed files differ from what a node has, and what to prune
version_added: 0.1.0
description:
  - Compares the files a role wants on a node (path, content, mode) with what one
    M(idm_automation.cluster.file_checksums) call found there (the keys M(ansible.builtin.find)
    returns with C(get_checksum) and C(checksum_algorithm=sha256)),
    so that a converged node costs one module call however many files a role manages.
  - A file is written when it is missing, or its sha256, mode, owner or group differ.
  - A file with C(product_rewrites) true is one the product rewrites itself (PingIDM encrypts the
    datasource password at start and writes the file back), so its live sha256 says nothing about
    what the collection wrote. It is judged by its record instead - a root-only file
    C(.<name>.rendered.sha256) beside it holding the sha256 of the content the collection rendered
    - written when it is missing, its mode, owner or group differ, or its record is missing or
    names other content. The records to write are returned in C(records); the I(found) list must
    include them (M(idm_automation.cluster.file_checksums) reads hidden files).
  - A found file is pruned when it is not managed and its name matches a pattern of a prune entry
    for its directory (for example C(webserver.listener-*.json) in C(conf/)), and, when I(owned) is
    given, only when it is in I(owned), the files the collection wrote on an earlier run. Files
    the product wrote itself (for example a schedule made over REST or in the Admin UI, which IDM
    writes back into C(conf/)) are never pruned then.
positional: found, owner, group, prune, owned
options:
  _input:
    description:
      - Wanted files, each with C(path), C(content) and C(mode) (for example C('0640')), and
        optionally C(owner) and C(group) (default I(owner) and I(group)), C(restart) (default
        true - whether a change of the file needs a restart of the node) and C(product_rewrites)
        (default false - judge the file by its record, not by its live checksum).
    type: list
    elements: dict
    required: true
  found:
    description: The C(files) list of a M(ansible.builtin.find) result over the same directories.
    type: list
    elements: dict
    required: true
  owner:
    description: Owner of the files that do not name one.
    type: str
    required: true
  group:
    description: Group of the files that do not name one.
    type: str
    required: true
  prune:
    description: Entries with C(dir) and C(pattern) (shell wildcard) of unmanaged files to remove.
    type: list
    elements: dict
    default: []
  owned:
    description:
      - Paths the collection wrote on an earlier run (its manifest). When given, only these can be
        pruned; when omitted (C(null)), every unmanaged file matching a prune pattern can be.
    type: list
    elements: str
    default: null
"""

EXAMPLES = r"""
- name: Pick what to write and what to remove
  ansible.builtin.set_fact:
    changes: >-
      {{ wanted | idm_automation.cluster.file_changes(found.files, 'idm', 'idm', prune, owned) }}
# -> {'write': ['/opt/idm/openidm/conf/cluster.json'],
#     'restart': ['/opt/idm/openidm/conf/cluster.json'],
#     'prune': ['/opt/idm/openidm/conf/webserver.listener-old.json'], 'records': []}
"""

RETURN = r"""
_value:
  description: Paths to write (in the order wanted) and paths to remove (sorted).
  type: dict
  contains:
    write:
      description: Paths of the wanted files that are missing or differ.
      type: list
      elements: str
    restart:
      description: The paths of I(write) whose change needs a restart (C(restart) not false).
      type: list
      elements: str
    records:
      description:
        - Records to write (C(path), C(content), C(mode), C(owner), C(group), C(restart) false),
          those of the C(product_rewrites) files that are missing or name other content.
      type: list
      elements: dict
    prune:
      description: Paths of unmanaged files that match a prune pattern (and are in I(owned)).
      type: list
      elements: str
"""


def _sha256(text: Any) -> str:
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()


def record_path(path: str) -> str:
    """Where the record of a file the product rewrites lives: beside it, hidden, not ``*.json``
    (so that the product never reads it as configuration)."""
    return posixpath.join(posixpath.dirname(path), f".{posixpath.basename(path)}.rendered.sha256")


def record_content(content: Any) -> str:
    return _sha256(content) + "\n"


def _differs(
    wanted: Mapping[str, Any],
    found: Mapping[str, Any] | None,
    owner: str,
    group: str,
    current: Mapping[str, Mapping[str, Any]],
) -> bool:
    if found is None:
        return True
    if wanted.get("product_rewrites", False):
        record = current.get(record_path(str(wanted["path"])))
        same = record is not None and record.get("checksum") == _sha256(
            record_content(wanted["content"])
        )
    else:
        same = found.get("checksum") == _sha256(wanted["content"])
    return (
        not same
        or str(found.get("mode")) != str(wanted["mode"])
        or found.get("pw_name") != wanted.get("owner", owner)
        or found.get("gr_name") != wanted.get("group", group)
    )


def _record(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "path": record_path(str(item["path"])),
        "content": record_content(item["content"]),
        "mode": "0600",
        "owner": "root",
        "group": "root",
        "restart": False,
    }


def file_changes(
    wanted: Iterable[Mapping[str, Any]],
    found: Iterable[Mapping[str, Any]],
    owner: str,
    group: str,
    prune: Iterable[Mapping[str, str]] | None = None,
    owned: Iterable[str] | None = None,
) -> dict[str, list[Any]]:
    """Paths to write and to prune."""
    wanted = list(wanted or [])
    for index, item in enumerate(wanted):
        if not isinstance(item, Mapping) or not {"path", "content", "mode"} <= set(item):
            raise AnsibleFilterError(f"file_changes: item {index} needs path, content and mode")
    current = {str(f["path"]): f for f in found or [] if isinstance(f, Mapping) and "path" in f}
    managed = {str(item["path"]) for item in wanted}
    write = [
        str(w["path"])
        for w in wanted
        if _differs(w, current.get(str(w["path"])), owner, group, current)
    ]
    rules = [(posixpath.normpath(p["dir"]), p["pattern"]) for p in prune or []]
    if owned is not None and (isinstance(owned, (str, bytes)) or not isinstance(owned, Iterable)):
        raise AnsibleFilterError("file_changes: owned must be a list of paths")
    previous = None if owned is None else {str(p) for p in owned}
    stale = sorted(
        path
        for path in current
        if path not in managed
        and (previous is None or path in previous)
        and any(
            posixpath.dirname(path) == directory
            and fnmatch.fnmatchcase(posixpath.basename(path), pat)
            for directory, pat in rules
        )
    )
    quiet = {str(w["path"]) for w in wanted if w.get("restart", True) is False}
    records = [
        record
        for record in (_record(w) for w in wanted if w.get("product_rewrites", False))
        if _differs(record, current.get(record["path"]), owner, group, current)
    ]
    return {
        "write": write,
        "restart": [p for p in write if p not in quiet],
        "prune": stale,
        "records": records,
    }


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"file_changes": file_changes}
