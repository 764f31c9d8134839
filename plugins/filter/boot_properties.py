# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The boot_properties filter: set keys in the product's shipped boot.properties, keep the rest."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: boot_properties
short_description: Set the collection's keys in a shipped boot.properties and keep every other line
version_added: 0.1.0
author: idm_automation maintainers (@idm-automation)
description:
  - Takes the text of the C(resolver/boot.properties) that ships with the distribution and
    returns it with the keys of O(settings) set, in the product's order, with every other key,
    comment and blank line kept as shipped (the product's file holds more keys than the
    collection sets; a file written from scratch would lose them).
  - A key is set where the shipped file has it, active or commented out (C(#key=value)); further
    occurrences of that key are dropped, so each key is set once. Keys the shipped file lacks are
    appended at the end, in the order given.
  - A value of V(null) comments the key out (C(#key=shipped value)), for a key that is set
    elsewhere, such as C(openidm.node.id) given with C(-D) in C(OPENIDM_OPTS).
  - Java properties continuation lines (a line ending in an odd number of backslashes) belong to
    their key and are replaced or kept with it.
positional: settings, header
options:
  _input:
    description: Text of the shipped file; an empty string gives a file of the settings alone.
    type: str
    required: true
  settings:
    description: Keys and values to set (strings, numbers or booleans; booleans are written lower
      case), in the order for keys that are appended.
    type: dict
    required: true
  header:
    description: Comment lines put at the top of the file (each prefixed with C(# )).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Render boot.properties from the release's shipped file
  ansible.builtin.copy:
    dest: /opt/idm/openidm/resolver/boot.properties
    content: >-
      {{ shipped_text | idm_automation.cluster.boot_properties(
           {'openidm.node.id': 'node2', 'openidm.host': 'idm.example.com'},
           ['Managed by idm_automation.cluster']) }}
    mode: "0600"

# 'openidm.node.id=node1\nopenidm.servlet.alias=/openidm\n' with {'openidm.node.id': 'node2'}
#   -> 'openidm.node.id=node2\nopenidm.servlet.alias=/openidm\n'
"""

RETURN = r"""
_value:
  description: The file's text, ending in a newline.
  type: str
"""

# key, then = or : or white space (java.util.Properties), possibly commented out with #.
_KEY_LINE = re.compile(r"^(?P<comment>[#!]\s*)?(?P<key>[A-Za-z0-9_.\-]+)\s*[=:]")
_APPENDED = "Set by idm_automation.cluster (not in the shipped file)"


def _text(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise AnsibleFilterError(
        f"boot_properties: the value of {key} must be a string, number or boolean, "
        f"not {type(value).__name__}"
    )


def _continues(line: str) -> bool:
    trailing = len(line) - len(line.rstrip("\\"))
    return trailing % 2 == 1


def _entries(lines: list[str]) -> list[list[str]]:
    """Logical lines: a key line with its continuation lines, or one other line."""
    entries: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        current.append(line)
        if not (_continues(line) and not line.lstrip().startswith(("#", "!"))):
            entries.append(current)
            current = []
    if current:
        entries.append(current)
    return entries


def boot_properties(shipped: object, settings: object, header: object = None) -> str:
    """``shipped`` with ``settings`` applied; see DOCUMENTATION."""
    if not isinstance(shipped, str):
        raise AnsibleFilterError("boot_properties expects the shipped file's text (a string)")
    if not isinstance(settings, Mapping):
        raise AnsibleFilterError("boot_properties: settings must be a dict of key: value")
    wanted = {str(k): (None if v is None else _text(str(k), v)) for k, v in settings.items()}
    out = [f"# {line}".rstrip() for line in (header or [])]
    done: set[str] = set()
    for entry in _entries(shipped.splitlines()):
        match = _KEY_LINE.match(entry[0].lstrip())
        key = match.group("key") if match else None
        if key not in wanted:
            out.extend(entry)
            continue
        if key in done:
            continue
        done.add(key)
        value = wanted[key]
        if value is not None:
            out.append(f"{key}={value}")
        elif match.group("comment"):
            out.extend(entry)
        else:
            out.extend("#" + line for line in entry)
    missing = [k for k in wanted if k not in done and wanted[k] is not None]
    if missing:
        out.extend(["", f"# {_APPENDED}"])
        out.extend(f"{key}={wanted[key]}" for key in missing)
    return "\n".join(out).rstrip("\n") + "\n"


class FilterModule:
    """idm_automation.cluster.boot_properties"""

    def filters(self) -> dict[str, object]:
        return {"boot_properties": boot_properties}
