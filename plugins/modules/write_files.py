#!/usr/bin/python
# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write many files, remove others and create folders in one call (the managed_files action's
remote half)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: write_files
short_description: Write many files and remove others in one call
version_added: 0.1.0
description:
  - Creates the folders in O(dirs), removes the files in O(remove), then writes every file of
    O(files), in that order, in one module call. The action of
    M(idm_automation.cluster.managed_files) uses it to write what its plan found different, so that
    a node with ten files to write costs one round trip, not one M(ansible.builtin.copy) per file.
  - The contents are module arguments. A caller that passes secrets must keep the node from
    logging the invocation (C(no_log)); the managed_files action always does.
  - Each file is written to a temporary file in its own folder with its final mode and owner,
    flushed, then renamed over the old one, so that a reader sees the old or the new file, never
    a partial one, and a secret file is never readable by others, not even for a moment.
  - In check mode nothing is written; the result says what would be.
options:
  files:
    description: The files to write, in order (existing ones are replaced).
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Absolute path., type: path, required: true}
      content: {description: The full content (UTF-8 text)., type: str, required: true}
      mode: {description: Permission bits (C('0640'))., type: str, required: true}
      owner: {description: Owner (user name)., type: str, required: true}
      group: {description: Group (group name)., type: str, required: true}
      secret:
        description: The file holds secrets; its content never appears in a diff.
        type: bool
        default: false
  remove:
    description: Files to remove (absent ones are not an error).
    type: list
    elements: path
    default: []
  dirs:
    description: Folders to create (mode 0755, with missing parents) when they do not exist.
    type: list
    elements: path
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Files with C(secret) show no diff.
  platform:
    platforms: posix
author:
  - idm_automation maintainers (@idm-automation)
"""

EXAMPLES = r"""
# Normally called by the managed_files action, which decides what differs.
- name: Write two files (one secret) and remove a stale one
  idm_automation.cluster.write_files:
    files:
      - {path: /opt/idm/openidm/conf/cluster.json, content: "{{ cluster_json }}", mode: "0640",
         owner: idm, group: idm}
      - {path: /opt/idm/openidm/conf/datasource.jdbc-default.json, content: "{{ datasource }}",
         mode: "0600", owner: idm, group: idm, secret: true}
    remove: [/opt/idm/openidm/conf/schedule-old.json]
  no_log: true
"""

RETURN = r"""
written:
  description: Paths written (or that would be, in check mode), in the order of O(files).
  returned: always
  type: list
  elements: str
removed:
  description: Paths removed (or that would be); absent ones are not listed.
  returned: always
  type: list
  elements: str
created_dirs:
  description: Folders created (or that would be).
  returned: always
  type: list
  elements: str
diff:
  description: Before and after of every file that is not secret, when diff mode is on.
  returned: when diff mode is on
  type: list
  elements: dict
"""

import grp
import os
import pwd
import tempfile
from typing import Any

from ansible.module_utils.basic import AnsibleModule

DIFF_LIMIT = 1024 * 1024  # larger files, and binary ones, show no content in the diff


def _before(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read(DIFF_LIMIT + 1)
    except FileNotFoundError:
        return ""
    if len(data) > DIFF_LIMIT:
        return "(larger than 1 MiB, not shown)\n"
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "(binary, not shown)\n"


def _ids(owner: str, group: str) -> tuple[int, int]:
    try:
        uid = pwd.getpwnam(owner).pw_uid
    except KeyError:
        raise ValueError(f"no user {owner!r} on this host") from None
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        raise ValueError(f"no group {group!r} on this host") from None
    return uid, gid


def _write(module: AnsibleModule, item: dict[str, Any]) -> None:
    path = item["path"]
    uid, gid = _ids(item["owner"], item["group"])
    folder, name = os.path.split(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
    try:
        # Mode and owner first: the content is never readable by anyone it is not meant for.
        os.fchmod(handle, int(item["mode"], 8))
        os.fchown(handle, uid, gid)
        with os.fdopen(handle, "wb") as out:
            out.write(item["content"].encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        if module.selinux_enabled():  # the context a file created at the path would get
            module.set_context_if_different(temporary, module.selinux_default_context(path), False)
        # Not module.atomic_move: it gives a new file the umask's mode for a moment.
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _invocation(params: dict[str, Any]) -> dict[str, Any]:
    """The arguments as the result echoes them, without the contents: a connection that shows
    module output (ssh at -vvv) must not show a secret."""
    files = [{**item, "content": "(not shown)"} for item in params["files"]]
    return {"module_args": {**params, "files": files}}


def _make_dir(path: str) -> None:
    missing = []
    while path and not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for folder in reversed(missing):
        os.mkdir(folder)
        os.chmod(folder, 0o755)  # not the umask's


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "files": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "path": {"type": "path", "required": True},
                    "content": {"type": "str", "required": True},
                    "mode": {"type": "str", "required": True},
                    "owner": {"type": "str", "required": True},
                    "group": {"type": "str", "required": True},
                    "secret": {"type": "bool", "default": False},
                },
            },
            "remove": {"type": "list", "elements": "path", "default": []},
            "dirs": {"type": "list", "elements": "path", "default": []},
        },
        supports_check_mode=True,
    )
    params = module.params
    hidden = {"invocation": _invocation(params)}
    for item in params["files"]:
        if not os.path.isabs(item["path"]):
            module.fail_json(msg=f"files: the path must be absolute: {item['path']}", **hidden)
        try:
            int(item["mode"], 8)
        except ValueError:
            module.fail_json(
                msg=f"{item['path']}: mode must be octal, not {item['mode']!r}", **hidden
            )

    result: dict[str, Any] = {"changed": False, "written": [], "removed": [], "created_dirs": []}
    if module._diff:
        result["diff"] = [
            {
                "before_header": item["path"],
                "after_header": item["path"],
                "before": _before(item["path"]),
                "after": item["content"],
            }
            for item in params["files"]
            if not item["secret"]
        ]
    step, error = "?", None
    try:
        for folder in params["dirs"]:
            step = f"creating {folder}"
            if not os.path.isdir(folder):
                if not module.check_mode:
                    _make_dir(folder)
                result["created_dirs"].append(folder)
        for path in params["remove"]:
            step = f"removing {path}"
            if os.path.lexists(path):
                if not module.check_mode:
                    os.unlink(path)
                result["removed"].append(path)
        for item in params["files"]:
            step = f"writing {item['path']}"
            if not module.check_mode:
                _write(module, item)
            result["written"].append(item["path"])
    except (OSError, ValueError) as failure:
        error = f"{step} failed: {failure}"
    # What was done before a failure is reported as done.
    result["changed"] = bool(result["written"] or result["removed"] or result["created_dirs"])
    if error is not None:
        module.fail_json(msg=error, **result, **hidden)
    module.exit_json(**result, **hidden)


if __name__ == "__main__":
    main()
