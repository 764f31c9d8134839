"""Where the roles put secret material, read from the role files themselves.

- The systemd unit is world-readable (0644), so it holds no JVM option: ``idm_jvm_options`` may
  hold secrets, and OPENIDM_OPTS go to a root-only (0600) environment file, written as a secret
  (no diff, no_log).
- No task copies key files to the controller (``fetch``, or a ``tempfile`` made on the
  controller): a run interrupted in between (Ctrl-C, a killed controller) runs no ``always``
  section and would leave the copies behind. Key files pass through the controller's memory only
  (``slurp``, then ``copy`` with ``content``). The one exception is the backup itself: the
  ``backup`` role fetches into the backup directory the operator asked for (created 0700 before
  the first fetch, every file made 0600); that copy is the product, not a leftover, and an
  interrupted backup has no manifest, so restore refuses it.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import yaml

ROLES = Path(__file__).resolve().parents[3] / "roles"
TEMPLATES = ROLES / "idm" / "templates"
SECRET_OPTION = "-Djavax.net.ssl.trustStorePassword=jvm-Secret-42"


def render(name: str) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined
    )
    return env.get_template(name).render(
        ansible_managed="managed",
        idm_version="8.1.0",
        idm_node_id="node1",
        idm_user="idm",
        idm_group="idm",
        idm_home="/opt/idm/openidm",
        idm_service_name="openidm",
        idm_service_restart="on-failure",
        idm_service_stop_timeout=60,
        idm_service_limit_nofile=65536,
        __idm_environment_path="/etc/default/openidm",
        __idm_openidm_opts=["-Xms256m", "-Xmx512m", SECRET_OPTION],
    )


def service_files() -> list[dict]:
    """The files of the managed_files task of the install phase, with the task's owner/group."""
    tasks = yaml.safe_load((ROLES / "idm" / "tasks" / "install" / "service.yml").read_text())
    [args] = [t["idm_automation.cluster.managed_files"] for t in tasks
              if "idm_automation.cluster.managed_files" in t]  # fmt: skip
    [task] = [t for t in tasks if "idm_automation.cluster.managed_files" in t]
    assert task["notify"] == "idm_automation.cluster restart idm"  # a new environment restarts
    return [{"owner": args["owner"], "group": args["group"], **f} for f in args["files"]]


def test_the_world_readable_unit_holds_no_jvm_option():
    unit = render("openidm.service.j2")
    assert SECRET_OPTION not in unit
    assert "OPENIDM_OPTS" not in unit
    assert "EnvironmentFile=/etc/default/openidm" in unit
    [entry] = [f for f in service_files() if "__idm_unit_path" in f["path"]]
    assert entry["mode"] == "0644"


def test_openidm_opts_are_in_a_root_only_environment_file():
    assert (
        f'OPENIDM_OPTS="-Xms256m -Xmx512m {SECRET_OPTION}"' in render("openidm.env.j2").splitlines()
    )
    [entry] = [f for f in service_files() if "__idm_environment_path" in f["path"]]
    assert "openidm.env.j2" in entry["content"]
    assert (entry["mode"], entry["owner"], entry["group"], entry["secret"]) == (
        "0600",
        "root",
        "root",
        True,
    )


def tasks_of(node):
    """Every task mapping in a task file, blocks, rescue and always sections included."""
    if isinstance(node, list):
        for item in node:
            yield from tasks_of(item)
    elif isinstance(node, dict):
        yield node
        for key in ("block", "rescue", "always"):
            yield from tasks_of(node.get(key, []))


def test_no_task_copies_key_files_to_the_controller():
    found = []
    for path in sorted(ROLES.glob("*/tasks/**/*.yml")):
        for task in tasks_of(yaml.safe_load(path.read_text()) or []):
            modules = set(task) & {"ansible.builtin.fetch", "fetch"}
            fetch = task.get("ansible.builtin.fetch") or {}
            if path.is_relative_to(ROLES / "backup") and str(fetch.get("dest", "")).startswith(
                "{{ __idm_backup_dir }}/"
            ):
                modules = set()
            on_controller = task.get("delegate_to") in ("localhost", "127.0.0.1")
            if on_controller and set(task) & {"ansible.builtin.tempfile", "tempfile"}:
                modules.add("tempfile")
            if modules:
                found.append(
                    f"{path.relative_to(ROLES)}: {task.get('name')} ({', '.join(sorted(modules))})"
                )
    assert found == []
