#!/usr/bin/python
# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Wait until an IDM node answers ready, failing fast (with its last log lines) when it dies."""

from __future__ import annotations

DOCUMENTATION = r"""
module: wait_ready
short_description: Wait until a PingIDM node is ready, or fail fast with its last log lines
version_added: 0.1.0
description:
  - Polls the node's readiness URL (C(/openidm/health/ready) in IDM 8.1) on the managed host
    until it answers HTTP 200.
  - IDM needs credentials on every REST endpoint, health included. Every probe sends the
    anonymous headers, C(X-OpenIDM-Username) and C(X-OpenIDM-Password) set to C(anonymous) and
    C(X-OpenIDM-NoSession) set to C(true). Without them IDM answers 401.
  - Unlike M(ansible.builtin.uri) with C(until), it also watches the systemd unit. When the service
    stops or fails while starting, it fails at once instead of waiting for the timeout.
  - On failure the result names the unit state, the last readiness answer and the last lines of the
    node's log file and of the unit's journal, so the operator sees why the node did not come up.
options:
  url:
    description: Readiness URL, reached from the managed host itself.
    type: str
    required: true
  unit:
    description:
      - Systemd unit of the node.
      - When set, a unit that is failed or inactive ends the wait.
    type: str
  timeout:
    description: Seconds to wait at most.
    type: int
    default: 180
  interval:
    description: Seconds between two probes.
    type: float
    default: 1.0
  log_file:
    description: Log file whose last lines are returned on failure.
    type: path
  log_lines:
    description: How many log lines to return on failure.
    type: int
    default: 40
  headers:
    description:
      - Extra request headers, sent over the anonymous headers (a key given here replaces the
        anonymous one of that name).
    type: dict
    default: {}
  secrets:
    description:
      - Secret values (passwords of the node, its keystore and its repository) to mask in
        everything the module returns, the journal and log lines included.
      - Each value is masked as it is and in its JSON-escaped forms (a quote or backslash
        escaped, non-ASCII characters as C(\uXXXX)), as IDM writes them in JSON log lines.
      - The values of every C(no_log) option are masked the same way.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: >-
      In check mode a single probe is made; a node that is not ready is reported, not waited
      for.
  diff_mode:
    support: none
  platform:
    platforms: posix
author:
  - idm_automation maintainers (@idm-automation)
"""

EXAMPLES = r"""
- name: Wait for the node to become ready
  idm_automation.cluster.wait_ready:
    url: http://127.0.0.1:8080/openidm/health/ready
    unit: openidm.service
    log_file: /opt/idm/openidm/logs/openidm.log
    timeout: 300
    secrets:
      - "{{ idm_keystore_password }}"
      - "{{ idm_repo_password }}"
"""

RETURN = r"""
elapsed:
  description: Seconds waited.
  type: float
  returned: always
status:
  description: HTTP status of the last probe (-1 when the connection failed).
  type: int
  returned: always
unit_state:
  description: ActiveState of the unit at the last probe, when I(unit) is set.
  type: str
  returned: when unit is set
log_tail:
  description: Last lines of the log file and of the unit's journal.
  type: list
  elements: str
  returned: failure
"""

import json
import time
from collections import deque

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.idm_automation.cluster.plugins.module_utils import idm_api

MASK = "********"


def secret_forms(values) -> list[str]:
    """Each non-empty secret as it is and JSON-escaped (with and without \\uXXXX escapes), longest
    first so that a secret containing another is masked whole."""
    forms = set()
    for value in values:
        if not value:
            continue
        forms.add(value)
        forms.add(json.dumps(value)[1:-1])
        forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    return sorted(forms, key=len, reverse=True)


def masked(text: str, forms: list[str]) -> str:
    """The text with every form of every secret replaced by the mask."""
    for form in forms:
        text = text.replace(form, MASK)
    return text


def probe(api: idm_api.IdmClient) -> tuple[int, str]:
    """Return (status, first 300 characters of the body); status -1 when nothing answered (the
    body is then the reason)."""
    reply = api.send("GET", "")
    text = reply.reason if reply.status == idm_api.NOT_CONNECTED else reply.body
    return reply.status, text[:300]


def unit_state(module: AnsibleModule, unit: str) -> str:
    """ActiveState of a systemd unit (active, activating, failed, inactive, ...)."""
    rc, out, _err = module.run_command(["systemctl", "show", "-p", "ActiveState", "--value", unit])
    return out.strip() if rc == 0 else "unknown"


def log_tail(
    module: AnsibleModule, log_file: str | None, unit: str | None, lines: int
) -> list[str]:
    """The last lines of the node's log file and of its journal."""
    tail: list[str] = []
    if log_file:
        try:
            with open(log_file, encoding="utf-8", errors="replace") as handle:
                tail += [f"{log_file}: {line.rstrip()}" for line in deque(handle, lines)]
        except OSError as error:
            tail.append(f"{log_file}: not readable ({error.strerror})")
    if unit:
        # coreutils' timeout bounds the read to 10 seconds (run_command has no time limit)
        command = ["timeout", "10", "journalctl", "-u", unit, "-n", str(lines), "--no-pager"]
        try:
            rc, journal, err = module.run_command(
                [*command, "-o", "cat"], errors="surrogate_then_replace", handle_exceptions=False
            )
        except OSError as error:
            rc, journal, err = -1, "", str(error)
        tail += [f"journal: {line}" for line in journal.splitlines()]
        if rc == 124:
            tail.append("journal: not readable (journalctl timed out after 10 seconds)")
        elif rc != 0 and not journal:
            tail.append(f"journal: not readable ({err.strip() or f'exit code {rc}'})")
    return tail


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "unit": {"type": "str"},
            "timeout": {"type": "int", "default": 180},
            "interval": {"type": "float", "default": 1.0},
            "log_file": {"type": "path"},
            "log_lines": {"type": "int", "default": 40},
            "headers": {"type": "dict", "default": {}},
            "secrets": {"type": "list", "elements": "str", "default": [], "no_log": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    # The given secrets and the values of every no_log option (AnsibleModule collects them).
    forms = secret_forms([*params["secrets"], *(str(v) for v in module.no_log_values)])
    unit = params["unit"]
    deadline = idm_api.Deadline(params["timeout"])
    result: dict = {"changed": False}
    # The anonymous headers (contract row C8); a header given in the options replaces its namesake.
    api = idm_api.IdmClient(
        params["url"], idm_api.Credentials.anonymous(), timeout=5, headers=params["headers"]
    )
    while True:
        status, body = probe(api)
        result.update(status=status, elapsed=deadline.elapsed())
        if status == 200:
            module.exit_json(**result)
        state = unit_state(module, unit) if unit else None
        if state is not None:
            result["unit_state"] = state
        if module.check_mode:
            result["msg"] = f"not ready in check mode (answer {status}); a real run would wait"
            module.exit_json(**result)
        if state in ("failed", "inactive", "deactivating"):
            reason = f"the service {unit} is {state}: the node stopped while starting"
            break
        if deadline.passed():
            reason = f"not ready after {params['timeout']}s"
            break
        time.sleep(params["interval"])
    last = f"last answer from {params['url']}: {status} {body.strip()[:200]}"
    if status == 401:
        last += " (the node refused the probe's credentials: IDM needs the anonymous headers)"
    tail = [
        masked(line, forms)
        for line in log_tail(module, params["log_file"], unit, params["log_lines"])
    ]
    module.fail_json(msg=masked(f"{reason}; {last}", forms), log_tail=tail, **result)


if __name__ == "__main__":
    main()
