#!/usr/bin/python
# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read or set a PingIDM node's activation state (active/passive clusters)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: idm_cluster_activation
short_description: Read or set the activation state of a PingIDM node (active/passive clusters)
version_added: 0.1.0
description:
  - In an IDM 8.1 active/passive cluster (boot properties
    C(org.forgerock.feature.cluster.active.passive) and C(org.forgerock.feature.cluster.improved)
    true) every node is C(ACTIVE) or C(STANDBY). This module reads it
    (C(GET /openidm/cluster/active)) and, with O(state), sets it
    (C(PUT /openidm/cluster/active) with the header C(If-Match) set to C(*)) on the node of
    O(url) only.
  - It changes something only when the node is not already in O(state), and reads the state
    back after a change.
  - Without active/passive clustering IDM answers 404; the module fails saying so.
options:
  state:
    description: The activation state wanted. Absent, the module only reads it.
    type: str
    choices: [ACTIVE, STANDBY]
  fail_on_unauthorized:
    description:
      - When false, an answer of 401 or 403 to the read ends the module without failing and
        without a change; RV(status) says what came back and RV(state) is null.
    type: bool
    default: true
extends_documentation_fragment:
  - idm_automation.cluster.idm_api
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The state is read; a change is reported, not made.
  diff_mode:
    support: full
  platform:
    platforms: posix
author:
  - idm_automation maintainers (@idm-automation)
"""

EXAMPLES = r"""
- name: Activate the node
  idm_automation.cluster.idm_cluster_activation:
    url: http://127.0.0.1:8080
    admin_password: "{{ idm_admin_password }}"
    state: ACTIVE

- name: Read the activation state
  idm_automation.cluster.idm_cluster_activation:
    url: http://127.0.0.1:8080
    admin_password: "{{ idm_admin_password }}"
  register: activation
"""

RETURN = r"""
state:
  description: The activation state after the module (in check mode, the one it would set).
  type: str
  returned: always
  sample: ACTIVE
previous:
  description: The activation state before the module.
  type: str
  returned: always
status:
  description: HTTP status of the last answer.
  type: int
  returned: always
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.idm_automation.cluster.plugins.module_utils import idm_api

NOT_ACTIVE_PASSIVE = (
    "Active/passive clustering is not enabled on this node (it needs "
    "org.forgerock.feature.cluster.active.passive and org.forgerock.feature.cluster.improved "
    "true in resolver/boot.properties)."
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **idm_api.argument_spec(),
            "state": {"type": "str", "choices": list(idm_api.ACTIVATION_STATES)},
            "fail_on_unauthorized": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    api = idm_api.client(params)
    wanted = params["state"]
    result: dict[str, Any] = {"changed": False, "state": None, "previous": None}
    try:
        previous = api.activation()
    except idm_api.IdmApiError as error:
        result["status"] = error.status
        if error.status in (401, 403) and not params["fail_on_unauthorized"]:
            module.exit_json(msg=str(error), **result)
        extra = f" {NOT_ACTIVE_PASSIVE}" if error.status == 404 else ""
        module.fail_json(msg=f"{error}{extra}", **result)
    result.update(state=previous, previous=previous, status=200)
    if wanted is None or wanted == previous:
        module.exit_json(**result)
    result.update(changed=True, state=wanted)
    if module._diff:
        result["diff"] = {"before": {"state": previous}, "after": {"state": wanted}}
    if not module.check_mode:
        try:
            api.set_activation(wanted)
            result["state"] = api.activation()
        except idm_api.IdmApiError as error:
            result["status"] = error.status
            module.fail_json(msg=str(error), **result)
        if result["state"] != wanted:
            module.fail_json(
                msg=f"{api.base_url} accepted {wanted} but reports {result['state']}", **result
            )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
