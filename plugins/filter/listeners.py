"""Filter that completes web server listener definitions with the product's defaults."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: listener_defaults
short_description: Complete IDM web server listener definitions with their defaults
version_added: 0.1.0
description:
  - Takes the list of listeners of C(idm_listeners) and returns it with every field present, so that
    templates and checks never need a per-field default.
  - Defaults are those of a C(conf/webserver.listener-*.json) file of PingIDM 8.1
    (C(enabled=true), C(secure=false), C(mutual_auth=false), C(ssl_cert_alias=openidm-localhost)).
  - Fails on a listener without C(name) or C(port), on a name that cannot be part of a file name,
    and on duplicate names.
options:
  _input:
    description: Listener definitions, each with at least C(name) and C(port).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Show the completed listeners
  ansible.builtin.debug:
    msg: "{{ [{'name': 'http', 'port': 8080}] | idm_automation.cluster.listener_defaults }}"
  # -> [{'name': 'http', 'port': 8080, 'enabled': true, 'secure': false,
  #      'mutual_auth': false, 'ssl_cert_alias': 'openidm-localhost'}]
"""

RETURN = r"""
_value:
  description:
    - The listeners, each with C(name), C(port) (int), C(enabled), C(secure), C(mutual_auth)
      and C(ssl_cert_alias).
  type: list
  elements: dict
"""

DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "secure": False,
    "mutual_auth": False,
    "ssl_cert_alias": "openidm-localhost",
}
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def listener_defaults(listeners: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the listeners with every field present and the port as an int."""
    result: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, listener in enumerate(listeners or []):
        if not isinstance(listener, Mapping) or "name" not in listener or "port" not in listener:
            raise AnsibleFilterError(
                f"idm_listeners[{index}] needs at least 'name' and 'port', got {listener!r}"
            )
        name = str(listener["name"])
        if not name or not set(name) <= _NAME_CHARS:
            raise AnsibleFilterError(
                f"idm_listeners[{index}]: name {name!r} must be letters, digits, '-' or '_' "
                "(it becomes conf/webserver.listener-<name>.json)"
            )
        if name in seen:
            raise AnsibleFilterError(f"idm_listeners: the name {name!r} is used twice")
        seen.add(name)
        try:
            port = int(listener["port"])
        except (TypeError, ValueError):
            raise AnsibleFilterError(
                f"idm_listeners[{index}] ({name}): port {listener['port']!r} is not a number"
            ) from None
        result.append({**DEFAULTS, **listener, "name": name, "port": port})
    return result


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"listener_defaults": listener_defaults}
