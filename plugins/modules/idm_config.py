#!/usr/bin/python
# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deploy PingIDM configuration objects over REST, once for the whole cluster."""

from __future__ import annotations

DOCUMENTATION = r"""
module: idm_config
short_description: Create or replace PingIDM configuration objects over REST
version_added: 0.1.0
description:
  - Reads every configuration object of O(objects) and O(secret_objects) from the node of O(url)
    (C(GET /openidm/config/<pid>)) and replaces those that differ (C(PUT /openidm/config/<pid>)).
    IDM stores them in its repository, which every node of the cluster reads, so one node is
    enough.
  - A field that IDM returns encrypted (C({"$crypto" ...})) counts as equal to the value wanted
    there, because only IDM can decrypt it; change such a secret with O(force).
  - Never deletes a configuration object.
options:
  objects:
    description: PID to object. Shown in the diff.
    type: dict
    default: {}
  secret_objects:
    description: PID to object, for objects holding secrets. Never shown nor logged.
    type: dict
    default: {}
  force:
    description: PIDs to put even when they compare equal (to change an encrypted secret).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - idm_automation.cluster.idm_api
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The objects are read and compared; nothing is put.
  diff_mode:
    support: full
    details: Objects of O(secret_objects) are shown as their PID only.
  platform:
    platforms: posix
author:
  - idm_automation maintainers (@idm-automation)
"""

EXAMPLES = r"""
- name: Deploy the managed object model and a mapping
  idm_automation.cluster.idm_config:
    url: http://127.0.0.1:8080
    admin_password: "{{ idm_admin_password }}"
    objects:
      managed: {objects: [{name: user}]}
      sync: {mappings: []}
"""

RETURN = r"""
changed_pids:
  description: PIDs created or replaced (in check mode, that would be).
  type: list
  elements: str
  returned: always
  sample: [managed]
created_pids:
  description: Those of RV(changed_pids) that did not exist.
  type: list
  elements: str
  returned: always
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.idm_automation.cluster.plugins.module_utils import (
    config_objects as co,
)
from ansible_collections.idm_automation.cluster.plugins.module_utils import idm_api


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **idm_api.argument_spec(),
            "objects": {"type": "dict", "default": {}},
            "secret_objects": {"type": "dict", "default": {}, "no_log": True},
            "force": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    params = module.params
    plain, secret = params["objects"], params["secret_objects"]
    both = sorted(set(plain) & set(secret))
    bad = sorted(pid for pid in [*plain, *secret] if not co.PID.match(str(pid)))
    if both or bad:
        module.fail_json(
            msg=f"not configuration object names: {bad}" if bad else f"given twice: {both}"
        )
    api = idm_api.client(params)
    changed: list[str] = []
    created: list[str] = []
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    try:
        for pid, wanted in sorted({**plain, **secret}.items()):
            wanted = co.strip_meta(wanted)
            current = api.config(pid)
            current_body = None if current is None else co.strip_meta(current)
            unchanged = current_body is not None and co.same(wanted, current_body)
            if unchanged and pid not in params["force"]:
                continue
            changed.append(pid)
            if current is None:
                created.append(pid)
            shown = "(secret)" if pid in secret else None
            before[pid] = shown or current_body
            after[pid] = shown or wanted
            if not module.check_mode:
                api.put_config(pid, wanted)
    except idm_api.IdmApiError as error:
        module.fail_json(msg=str(error), changed_pids=changed, created_pids=created)
    result: dict[str, Any] = {
        "changed": bool(changed),
        "changed_pids": changed,
        "created_pids": created,
    }
    if module._diff and changed:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
