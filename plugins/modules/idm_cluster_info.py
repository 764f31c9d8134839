#!/usr/bin/python
# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""List the instances of a PingIDM cluster with their effective state; optionally wait for some."""

from __future__ import annotations

DOCUMENTATION = r"""
module: idm_cluster_info
short_description: List the instances of a PingIDM cluster, or wait until given ones run
version_added: 0.1.0
description:
  - Asks one IDM node for the cluster table (C(GET /openidm/cluster?_queryFilter=true)) or, with
    O(instance_id), for one instance (C(GET /openidm/cluster/<id>)).
  - Each instance gets an C(effective_state). Where a node in recovery shows differs between IDM
    versions (top-level C(state) C(processing-down), or C(state) C(running) with a C(recovery)
    object whose C(state) is C(processing-down)); the effective state reads both, and an instance
    in recovery is never C(running). The filter P(idm_automation.cluster.instance_state#filter)
    computes the same.
  - With O(wait_running) (or O(wait_down)) it asks again until every listed instance ID is
    effectively running (or down), at most O(timeout) seconds, and fails naming what the cluster
    reported last.
options:
  instance_id:
    description:
      - Ask for this instance only.
      - An instance the cluster does not know is not an error (RV(instance) is null).
    type: str
  wait_running:
    description: Instance IDs to wait for until each one is effectively C(running).
    type: list
    elements: str
    default: []
  wait_down:
    description:
      - Instance IDs to wait for until each one is C(down) (an instance in recovery,
        C(processing-down), is not down yet).
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds to wait at most for O(wait_running) and O(wait_down).
    type: int
    default: 180
  interval:
    description: Seconds between two questions while waiting.
    type: float
    default: 2.0
  fail_on_unauthorized:
    description:
      - When false, an answer of 401 or 403 (the admin password not set yet, for example) ends the
        module without failing; RV(status) says what came back and RV(instances) is empty.
    type: bool
    default: true
extends_documentation_fragment:
  - idm_automation.cluster.idm_api
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Read-only; it asks and waits in check mode as in a real run.
  diff_mode:
    support: none
  platform:
    platforms: posix
author:
  - idm_automation maintainers (@idm-automation)
"""

EXAMPLES = r"""
- name: Wait until every node runs in the cluster
  idm_automation.cluster.idm_cluster_info:
    url: http://127.0.0.1:8080
    admin_password: "{{ idm_admin_password }}"
    wait_running: [node1, node2, node3]
    timeout: 180

- name: Wait until the removed nodes are down
  idm_automation.cluster.idm_cluster_info:
    url: http://127.0.0.1:8080
    admin_password: "{{ idm_admin_password }}"
    wait_down: [node4]
    timeout: 60

- name: Read one instance; a refused password is an answer, not a failure
  idm_automation.cluster.idm_cluster_info:
    url: http://127.0.0.1:8080
    admin_password: "{{ idm_admin_password }}"
    instance_id: node2
    fail_on_unauthorized: false
  register: node2

- name: Show the instances that are effectively running
  ansible.builtin.debug:
    msg: "{{ node2.running }}"
"""

RETURN = r"""
status:
  description: HTTP status of the last answer (-1 when nothing answered).
  type: int
  returned: always
instances:
  description:
    - The instances as IDM listed them, each with an added C(effective_state). With
      O(instance_id), the one instance or an empty list.
  type: list
  elements: dict
  returned: always
instance:
  description: The instance asked for with O(instance_id), null when the cluster does not know it.
  type: dict
  returned: when instance_id is set
states:
  description: Instance ID to effective state.
  type: dict
  returned: always
  sample: {node1: running, node2: processing-down}
running:
  description: Instance IDs that are effectively running.
  type: list
  elements: str
  returned: always
missing:
  description:
    - Instance IDs of O(wait_running) that are not effectively running at the end, and of
      O(wait_down) that are not down.
  type: list
  elements: str
  returned: always
elapsed:
  description: Seconds spent.
  type: float
  returned: always
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.idm_automation.cluster.plugins.module_utils import idm_api
from ansible_collections.idm_automation.cluster.plugins.module_utils.cluster_state import (
    effective_state,
    instance_states,
)


def look(api: idm_api.IdmClient, instance_id: str | None) -> dict[str, Any]:
    """One question to the node: the instances (with effective state) and the HTTP status, or
    the error that came back instead."""
    try:
        if instance_id:
            one = api.cluster_instance(instance_id)
            instances = [one] if one is not None else []
            status = 200 if one is not None else 404
        else:
            instances, status = api.cluster_instances(), 200
    except idm_api.IdmApiError as error:
        return {"status": error.status, "instances": [], "error": str(error)}
    seen = [{**item, "effective_state": effective_state(item)} for item in instances]
    return {"status": status, "instances": seen, "error": None}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            **idm_api.argument_spec(),
            "instance_id": {"type": "str"},
            "wait_running": {"type": "list", "elements": "str", "default": []},
            "wait_down": {"type": "list", "elements": "str", "default": []},
            "timeout": {"type": "int", "default": 180},
            "interval": {"type": "float", "default": 2.0},
            "fail_on_unauthorized": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    api = idm_api.client(params)
    wanted = {str(w): "running" for w in params["wait_running"]}
    wanted.update({str(w): "down" for w in params["wait_down"]})
    deadline = idm_api.Deadline(params["timeout"] if wanted else 0)

    def missing(seen: dict[str, Any]) -> list[str]:
        states = instance_states(seen["instances"])
        return [iid for iid, state in wanted.items() if states.get(iid) != state]

    def unauthorized(seen: dict[str, Any]) -> bool:
        return seen["status"] in (401, 403) and not params["fail_on_unauthorized"]

    def answered(seen: dict[str, Any]) -> bool:
        return seen["error"] is None and not missing(seen)

    seen, _done = idm_api.poll(
        lambda: look(api, params["instance_id"]),
        answered,
        deadline,
        params["interval"],
        stop=unauthorized,
    )
    states = instance_states(seen["instances"])
    result: dict[str, Any] = {
        "changed": False,
        "status": seen["status"],
        "instances": seen["instances"],
        "states": states,
        "running": [iid for iid, state in states.items() if state == "running"],
        "missing": missing(seen),
        "elapsed": deadline.elapsed(),
    }
    if params["instance_id"]:
        result["instance"] = seen["instances"][0] if seen["instances"] else None
    if unauthorized(seen):
        module.exit_json(msg=seen["error"], **result)
    if seen["error"] is not None:
        waited = f"Waited {params['timeout']}s for {', '.join(wanted)}; " if wanted else ""
        module.fail_json(msg=waited + seen["error"], **result)
    if result["missing"]:
        reported = ", ".join(f"{iid}={state}" for iid, state in states.items()) or "no instances"
        expected = "; ".join(
            f"expected {state}: {', '.join(i for i, s in wanted.items() if s == state)}"
            for state in ("running", "down")
            if state in wanted.values()
        )
        module.fail_json(
            msg=(
                f"Not every instance is in the state waited for after {params['timeout']}s "
                f"({expected}); not there: {', '.join(result['missing'])}. The cluster "
                f"reports: {reported} (HTTP {seen['status']}, asked {api.base_url})."
            ),
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
