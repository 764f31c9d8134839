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

    TRANSFERS_FILES = True
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
        if not self._task.check_mode:
            for folder in todo.missing_dirs:
                step = self._module(
                    "ansible.legacy.file",
                    {"path": folder, "state": "directory", "mode": "0755"},
                    task_vars,
                )
                if step.get("failed"):
                    return {"failed": True, "msg": f"cannot create {folder}: {step.get('msg')}"}
        for item in todo.write:
            step = self._copy(item, args["owner"], args["group"], task_vars)
            if step.get("failed"):
                return {
                    "failed": True,
                    "msg": f"writing {item['path']} failed: {step.get('msg')}",
                    "written": out["written"],
                }
            out["written"].append(str(item["path"]))
            if not item.get("secret", False) and step.get("diff"):
                out["diff"].extend(
                    step["diff"] if isinstance(step["diff"], list) else [step["diff"]]
                )
        for path in todo.prune:
            step = self._module("ansible.legacy.file", {"path": path, "state": "absent"}, task_vars)
            if step.get("failed"):
                return {"failed": True, "msg": f"removing {path} failed: {step.get('msg')}"}
        if todo.manifest is not None:
            record = {
                "path": manifest,
                "content": todo.manifest,
                "mode": MANIFEST_MODE,
                "owner": "root",
                "group": "root",
                "secret": True,
            }
            step = self._copy(record, "root", "root", task_vars)
            if step.get("failed"):
                return {"failed": True, "msg": f"writing {manifest} failed: {step.get('msg')}"}
        return out

    def _module(self, name: str, module_args: dict[str, Any], task_vars: dict[str, Any]) -> dict:
        return self._execute_module(module_name=name, module_args=module_args, task_vars=task_vars)

    def _copy(
        self, item: dict[str, Any], owner: str, group: str, task_vars: dict[str, Any]
    ) -> dict:
        """ansible.builtin.copy of one file's content, as the template action does it."""
        task = self._task.copy()
        task.args = {
            "content": item["content"],
            "dest": item["path"],
            "owner": item.get("owner", owner),
            "group": item.get("group", group),
            "mode": item["mode"],
        }
        task.diff = bool(self._task.diff and not item.get("secret", False))
        copy = self._shared_loader_obj.action_loader.get(
            "ansible.legacy.copy",
            task=task,
            connection=self._connection,
            play_context=self._play_context,
            loader=self._loader,
            templar=self._templar,
            shared_loader_obj=self._shared_loader_obj,
        )
        return copy.run(task_vars=task_vars)
