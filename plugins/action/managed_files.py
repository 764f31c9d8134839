# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of idm_automation.cluster.managed_files (documented in plugins/modules/)."""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.managed_files import (
    MANIFEST_MODE,
    PlanError,
    plan,
)

ARGUMENT_SPEC: dict[str, Any] = {
    "files": {"type": "list", "elements": "dict", "required": True},
    "owner": {"type": "str", "required": True},
    "group": {"type": "str", "required": True},
    "manifest": {"type": "path", "required": True},
    "prune": {"type": "list", "elements": "dict", "default": []},
    "forget": {"type": "list", "elements": "path", "default": []},
}


class ActionModule(ActionBase):
    """Read the node once, then write, remove and record only what differs."""

    TRANSFERS_FILES = False  # contents go to write_files as arguments: no file transfer
    _requires_connection = True

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        try:
            return {**result, **self._converge(args, task_vars)}
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _converge(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        manifest = args["manifest"]
        read = self._execute_module(
            module_name="idm_automation.cluster.file_checksums",
            module_args={
                "paths": [str(f.get("path")) for f in args["files"] if isinstance(f, dict)]
                + [
                    f"{r.get('dir')}/{r.get('pattern')}"
                    for r in args["prune"]
                    if isinstance(r, dict)
                ]
                + [manifest],
                "read": [manifest],
            },
            task_vars=task_vars,
        )
        if read.get("failed"):
            return {"failed": True, "msg": f"reading the managed files failed: {read.get('msg')}"}
        try:
            todo = plan(
                args["files"],
                read["files"],
                read["contents"].get(manifest),
                args["owner"],
                args["group"],
                args["prune"],
                args["forget"],
                read["missing_dirs"],
                manifest,
            )
        except PlanError as error:
            return {"failed": True, "msg": f"managed_files: {error}"}
        out: dict[str, Any] = {
            "changed": todo.changed,
            "written": [],
            "pruned": todo.prune,
            "manifest_written": todo.manifest is not None,
            "diff": [],
        }
        if not todo.changed:
            return out
        files = [
            {
                "path": str(item["path"]),
                "content": item["content"],
                "mode": item["mode"],
                "owner": item.get("owner", args["owner"]),
                "group": item.get("group", args["group"]),
                "secret": bool(item.get("secret", False)),
            }
            for item in todo.write
        ]
        if todo.manifest is not None:  # last: it records what was written and removed
            files.append(
                {
                    "path": manifest,
                    "content": todo.manifest,
                    "mode": MANIFEST_MODE,
                    "owner": "root",
                    "group": "root",
                    "secret": True,
                }
            )
        step = self._write(
            {"files": files, "remove": todo.prune, "dirs": todo.missing_dirs}, task_vars
        )
        out["written"] = [p for p in step.get("written", []) if p != manifest]
        if step.get("failed"):
            return {**out, "failed": True, "msg": f"managed_files: {step.get('msg')}"}
        out["diff"] = step.get("diff", [])
        return out

    def _write(self, module_args: dict[str, Any], task_vars: dict[str, Any]) -> dict:
        """One write_files call for all of the node's changes. The contents are its arguments, so
        neither the node's log nor the connection's verbose output may show them: the call is made
        as a no_log task, whatever the task says (the task's own result is this action's, which
        holds no content), and the module echoes its arguments without the contents."""
        task, no_log = self._task, self._play_context.no_log
        self._task = task.copy()
        self._task.no_log = True
        self._play_context.no_log = True
        try:
            return self._execute_module(
                module_name="idm_automation.cluster.write_files",
                module_args=module_args,
                task_vars=task_vars,
            )
        finally:
            self._task = task
            self._play_context.no_log = no_log
