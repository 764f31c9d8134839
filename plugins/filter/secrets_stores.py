# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secrets_stores filter: point secrets.json's main stores at the boot properties."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: secrets_stores
short_description: Make secrets.json's main keystore and truststore follow boot.properties
version_added: 0.1.0
author: idm_automation maintainers (@idm-automation)
description:
  - Takes the text of a C(conf/secrets.json) and returns it with the C(mainKeyStore) and
    C(mainTrustStore) stores reading their file, store type and store password from the boot
    properties the collection sets (C(openidm.keystore.location), C(openidm.keystore.type),
    C(openidm.keystore.password) and the C(openidm.truststore.*) ones).
  - Whether the product's shipped file uses these property expressions or literals (C(changeit),
    C(&{idm.data.dir}/security/keystore.jceks)) is not settled for PingIDM 8.1 (contract row
    C11). With literals, C(idm_keystore_password) and the C(shared) mode locations would have no
    effect and each node would keep a keystore of its own; with this filter they apply in both
    cases.
  - A value that already is an expression of the right property (with or without a default) is
    kept. Otherwise C(file) and C(storetype) become C(&{property|old value}), so that an unset
    property keeps the old behaviour, and C(storePassword) becomes C(&{property}) (the collection
    always sets the password; a literal password is not copied into the expression).
  - When nothing needs to change, the input text is returned unchanged, byte for byte; otherwise
    the document is written with four-space indentation and a final newline. Every other store,
    mapping and key is kept.
positional: _input
options:
  _input:
    description: Text of the C(secrets.json) file.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Point the main stores of secrets.json at the boot properties
  ansible.builtin.copy:
    dest: /opt/idm/openidm/conf/secrets.json
    content: "{{ shipped_secrets_json | idm_automation.cluster.secrets_stores }}"
    mode: "0600"

# mainKeyStore {"storePassword": "changeit", "file": "&{idm.data.dir}/security/keystore.jceks"}
#   -> {"storePassword": "&{openidm.keystore.password}",
#       "file": "&{openidm.keystore.location|&{idm.data.dir}/security/keystore.jceks}"}
"""

RETURN = r"""
_value:
  description: The text of C(secrets.json) with the main stores following the boot properties.
  type: str
"""

# Store name -> boot property prefix.
STORES = {"mainKeyStore": "openidm.keystore", "mainTrustStore": "openidm.truststore"}
# Config key -> (property suffix, keep the old value as the expression's default).
FIELDS = {
    "file": ("location", True),
    "storetype": ("type", True),
    "storePassword": ("password", False),
}


def _follows(value: object, prop: str) -> bool:
    """Whether value is ``&{prop}`` or ``&{prop|default}``."""
    return (
        isinstance(value, str)
        and re.fullmatch(r"&\{" + re.escape(prop) + r"(\|.*)?\}", value) is not None
    )


def _expression(prop: str, old: object, keep_default: bool) -> str:
    if keep_default and isinstance(old, str) and old:
        return f"&{{{prop}|{old}}}"
    return f"&{{{prop}}}"


def _point(config: dict[str, Any], prefix: str) -> bool:
    changed = False
    for key, (suffix, keep_default) in FIELDS.items():
        prop = f"{prefix}.{suffix}"
        if not _follows(config.get(key), prop):
            config[key] = _expression(prop, config.get(key), keep_default)
            changed = True
    return changed


def _stores(doc: object) -> dict[str, dict[str, Any]]:
    stores = doc.get("stores") if isinstance(doc, Mapping) else None
    if not isinstance(stores, list):
        raise AnsibleFilterError("secrets_stores: secrets.json has no list of stores")
    found = {s.get("name"): s for s in stores if isinstance(s, dict)}
    missing = [name for name in STORES if not isinstance(found.get(name, {}).get("config"), dict)]
    if missing:
        raise AnsibleFilterError(
            "secrets_stores: secrets.json has no " + " or ".join(missing) + " store with a config "
            "object; IDM needs both (restore the file of the distribution)"
        )
    return {name: found[name] for name in STORES}


def secrets_stores(text: str) -> str:
    """secrets.json text whose main stores read file, type and password from boot.properties."""
    if not isinstance(text, str):
        raise AnsibleFilterError(
            f"secrets_stores expects the text of secrets.json, got {type(text).__name__}"
        )
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise AnsibleFilterError(f"secrets_stores: secrets.json is not valid JSON ({exc})") from exc
    changed = False
    for name, store in _stores(doc).items():
        changed = _point(store["config"], STORES[name]) or changed
    return json.dumps(doc, indent=4) + "\n" if changed else text


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"secrets_stores": secrets_stores}
