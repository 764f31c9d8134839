# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IDM configuration objects to deploy as code, checked and in one list."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.idm_automation.cluster.plugins.module_utils import (
    config_objects as co,
)

DOCUMENTATION = r"""
name: config_objects
short_description: The PingIDM configuration objects to deploy, from inline objects and files
version_added: 0.1.0
description:
  - Merges the configuration objects given inline (O(_input), PID to object) with the JSON files
    of a directory (O(files)), checks them and returns one sorted list.
  - A file's PID follows IDM's naming, C(sync.json) is C(sync) and
    C(provisioner.openicf-ldap.json) is C(provisioner.openicf/ldap) (the first hyphen separates a
    factory from its instance).
  - Fails, listing every problem with its fix, when a PID is not a valid name, a file is not a
    JSON object, one PID is given twice, or the PID is one the collection already writes from its
    own variables (cluster, scheduler, schedules, listeners, datasource, repository, secrets).
options:
  _input:
    description: Inline objects, PID to JSON object (C(idm_config_objects)).
    type: dict
    required: true
  files:
    description: Files of the configuration directory, each with C(name) (base name) and C(content).
    type: list
    elements: dict
    default: []
  rewrites:
    description:
      - PID patterns (shell style) of the objects whose secret fields IDM encrypts and writes back
        (connector credentials, for example). They get RV(_value[].product_rewrites) true.
    type: list
    elements: str
    default: []
author:
  - idm_automation maintainers (@idm-automation)
"""

EXAMPLES = r"""
- name: The objects to deploy (inline, and the files of a directory on the controller)
  ansible.builtin.set_fact:
    objects: "{{ idm_config_objects | idm_automation.cluster.config_objects(files, rewrites) }}"
  vars:
    rewrites: ["provisioner.*"]
    files: >-
      {% set out = [] %}
      {%- for path in query('ansible.builtin.fileglob', idm_config_src ~ '/*.json') %}
      {%- set _ = out.append({'name': path | basename,
                              'content': lookup('ansible.builtin.file', path)}) %}
      {%- endfor %}{{ out }}
"""

RETURN = r"""
_value:
  description: One entry per object, sorted by PID.
  type: list
  elements: dict
  contains:
    pid:
      description: The configuration object's ID, as in C(/openidm/config/<pid>).
      type: str
    file:
      description: Its file name in C(conf/).
      type: str
    object:
      description: The object.
      type: dict
    content:
      description: The file content the collection writes (sorted keys, 4-space indent).
      type: str
    product_rewrites:
      description: Whether IDM may rewrite it (a secret field encrypted), so no diff is shown.
      type: bool
"""


def _from_files(files: Any, problems: list[str]) -> dict[str, tuple[str, Any]]:
    found: dict[str, tuple[str, Any]] = {}
    for entry in files or []:
        name = str(entry.get("name", "")) if isinstance(entry, Mapping) else ""
        if not name.endswith(".json"):
            problems.append(
                f"{name or repr(entry)} is not a .json file. Fix: remove it from the directory."
            )
            continue
        try:
            document = json.loads(entry.get("content", ""))
        except ValueError as error:
            problems.append(f"{name} is not valid JSON ({error}). Fix: correct the file.")
            continue
        found[co.pid_of(name)] = (name, document)
    return found


def config_objects(inline: Any, files: Any = None, rewrites: Any = None) -> list[dict[str, Any]]:
    if not isinstance(inline, Mapping):
        raise AnsibleFilterError("idm_config_objects must be a mapping of PID to object")
    problems: list[str] = []
    sources = {
        pid: (f"file {name}", doc) for pid, (name, doc) in _from_files(files, problems).items()
    }
    for pid, document in inline.items():
        pid = str(pid)
        if pid in sources:
            problems.append(
                f"{pid} is given inline (idm_config_objects) and as {sources[pid][0]}. "
                "Fix: keep one of the two."
            )
            continue
        sources[pid] = (f"idm_config_objects['{pid}']", document)
    result = []
    for pid in sorted(sources):
        where, document = sources[pid]
        owner = co.reserved_by(pid)
        if not co.PID.match(pid):
            problems.append(
                f"{where}: '{pid}' is not a configuration object name (a service name, and for "
                "a factory configuration '/' and an instance name). Fix: rename it."
            )
        elif owner:
            problems.append(
                f"{where}: {pid} is written by the collection from {owner}. Fix: set it there."
            )
        elif not isinstance(document, Mapping):
            problems.append(f"{where} is not a JSON object. Fix: give an object.")
        else:
            result.append(
                {
                    "pid": pid,
                    "file": co.file_of(pid),
                    "object": co.strip_meta(document),
                    "content": co.render(document),
                    "product_rewrites": co.matches_any(pid, rewrites or []),
                }
            )
    if problems:
        raise AnsibleFilterError(
            "configuration as code: " + " ".join(f"({n}) {p}" for n, p in enumerate(problems, 1))
        )
    return result


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"config_objects": config_objects}
