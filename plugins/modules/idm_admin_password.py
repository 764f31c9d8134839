#!/usr/bin/python
# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Set the PingIDM administrator's password once, by the documented REST method."""

from __future__ import annotations

DOCUMENTATION = r"""
module: idm_admin_password
short_description: Replace the PingIDM administrator's password, once
version_added: 0.1.0
description:
  - A new IDM repository carries the product's default administrator password. This module
    replaces it with O(admin_password) by the documented REST method (PingIDM 8.1 "Change the
    administrator user password"), C(PATCH /openidm/internal/user/<admin_user>) replacing
    C(/password), logged in with O(old_password) (with C(X-OpenIDM-Reauth-Password), which IDM
    asks for on password changes over REST).
  - Idempotent. It first tries O(admin_password) on an admin endpoint (the cluster query); when
    that works nothing is changed. After a change it proves that O(admin_password) works.
  - When the change is refused it tries O(admin_password) once more (another run may have just
    set it) and otherwise fails saying that neither password is accepted.
  - The password is stored in the repository, so one change applies to every node of the cluster.
options:
  admin_password:
    description: The password wanted for O(admin_user).
  old_password:
    description: The password to replace (the product's default on a new repository).
    type: str
    required: true
extends_documentation_fragment:
  - idm_automation.cluster.idm_api
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: >-
      Both passwords are tried with read-only requests; a change is reported, not made.
  diff_mode:
    support: none
  platform:
    platforms: posix
author:
  - idm_automation maintainers (@idm-automation)
"""

EXAMPLES = r"""
- name: Replace the default admin password
  idm_automation.cluster.idm_admin_password:
    url: http://127.0.0.1:8080
    admin_user: openidm-admin
    admin_password: "{{ idm_admin_password }}"
    old_password: "{{ idm_admin_default_password }}"
"""

RETURN = r"""
status:
  description: HTTP status of the last answer.
  type: int
  returned: always
"""

from typing import Any
from urllib.parse import quote

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.idm_automation.cluster.plugins.module_utils import idm_api

REFUSED = (401, 403)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **idm_api.argument_spec(),
            "old_password": {"type": "str", "required": True, "no_log": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    api = idm_api.client(params)
    user = params["admin_user"]
    wanted = api.credentials
    old = idm_api.Credentials(user, params["old_password"], basic=wanted.basic)
    result: dict[str, Any] = {"changed": False}

    def fail(reply: idm_api.Reply, msg: str | None = None) -> None:
        result["status"] = reply.status
        text = msg or str(idm_api.IdmApiError(reply, idm_api.hint(reply, wanted)))
        secrets = (params["admin_password"], params["old_password"])
        module.fail_json(msg=idm_api.redact(text, *secrets), **result)

    neither = (
        f"{user} accepts neither admin_password nor old_password on {api.base_url}. The password "
        "was changed outside this collection: set admin_password to the current one."
    )
    probe = api.accepts(wanted)
    result["status"] = probe.status
    if probe.status == 200:
        module.exit_json(**result)
    if probe.status not in REFUSED:
        fail(probe)
    if module.check_mode:
        before = api.accepts(old)
        if before.status != 200:
            fail(before, neither if before.status in REFUSED else None)
        module.exit_json(changed=True, status=before.status, msg="the password would be replaced")
    change = api.send(
        "PATCH",
        "/openidm/internal/user/" + quote(user, safe=""),
        body=[{"operation": "replace", "field": "/password", "value": params["admin_password"]}],
        headers={
            "If-Match": "*",
            "Accept-API-Version": "resource=1.0",
            "X-OpenIDM-Reauth-Password": params["old_password"],
        },
        credentials=old,
    )
    if change.status in REFUSED:
        again = api.accepts(wanted)  # another run may have just set it
        if again.status == 200:
            module.exit_json(changed=False, status=200)
        fail(again, neither if again.status in REFUSED else None)
    if change.status != 200:
        fail(change)
    proof = api.accepts(wanted)
    if proof.status != 200:
        fail(proof, f"{api.base_url} accepted the new password for {user} but then refused it")
    module.exit_json(changed=True, status=proof.status)


if __name__ == "__main__":
    main()
