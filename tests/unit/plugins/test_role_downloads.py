"""Every task that downloads runs with ``idm_proxy_environment`` (issue 16, proxied hosts).

Read from the role files themselves: a task using a package manager, ``get_url`` or ``pip`` must
set ``environment: "{{ idm_proxy_environment }}"``, so that one variable reaches every download
(docs/offline.md). A new download task without it fails here.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from test_secret_files import tasks_of

ROLES = Path(__file__).resolve().parents[3] / "roles"
DOWNLOADS = {
    f"ansible.builtin.{name}" for name in ("package", "apt", "dnf", "yum", "get_url", "pip")
}
ENVIRONMENT = "{{ idm_proxy_environment }}"


def download_tasks() -> list[tuple[str, dict]]:
    found = []
    for path in sorted(ROLES.glob("*/tasks/**/*.yml")):
        for task in tasks_of(yaml.safe_load(path.read_text()) or []):
            if DOWNLOADS & set(task):
                found.append((f"{path.relative_to(ROLES)}: {task.get('name')}", task))
    return found


def test_there_are_download_tasks() -> None:
    assert len(download_tasks()) >= 4  # node packages, DDL host driver, HAProxy, the zip URL


def test_every_download_uses_the_proxy_environment() -> None:
    missing = [where for where, task in download_tasks() if task.get("environment") != ENVIRONMENT]
    assert missing == []


def test_the_variable_is_declared_with_an_empty_default() -> None:
    defaults = yaml.safe_load((ROLES / "common/defaults/main.yml").read_text())
    specs = yaml.safe_load((ROLES / "common/meta/argument_specs.yml").read_text())
    assert defaults["idm_proxy_environment"] == {}
    option = specs["argument_specs"]["main"]["options"]["idm_proxy_environment"]
    assert (option["type"], option["default"]) == ("dict", {})
