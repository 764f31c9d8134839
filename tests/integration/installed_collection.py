"""What the integration tests share: the installed collection, and a host that cannot be reached."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ANSIBLE_PLAYBOOK = Path(sys.executable).with_name("ansible-playbook")

# The environment the tests start ansible-playbook with, copied once at import. Copying
# os.environ inside a worker thread races with pytest, which sets and removes PYTEST_CURRENT_TEST
# on the main thread (KeyError while the copy iterates).
BASE_ENV = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}

# Connection variables of a host that refuses every connection (ssh to port 1 on loopback): a task
# that tries to touch it is reported unreachable, which proves that nothing was changed.
UNREACHABLE_HOST = {
    "ansible_connection": "ssh",
    "ansible_host": "127.0.0.1",
    "ansible_port": 1,
    "ansible_user": "nobody",
    "ansible_ssh_common_args": (
        "-o BatchMode=yes -o ConnectTimeout=5 -o StrictHostKeyChecking=no "
        "-o UserKnownHostsFile=/dev/null"
    ),
}


# A small inventory for `ansible-playbook --list-tasks` (nothing is contacted), and the pattern of
# one listed task: its name and its tags.
LIST_TASKS_INVENTORY = """
all:
  children:
    idm_nodes: {hosts: {idm1: {}, idm2: {}}}
    idm_loadbalancers: {hosts: {lb1: {}}}
"""
LISTED_TASK = re.compile(r"^\s{6}(.*?)\tTAGS: \[(.*?)\]")


def find_collection() -> tuple[Path | None, str]:
    """The installed collection in ANSIBLE_COLLECTIONS_PATH, or None and why not."""
    paths = [p for p in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if p]
    if not paths:
        return None, (
            "ANSIBLE_COLLECTIONS_PATH is not set; run `make collection` and set it to the "
            "collections directory (the Makefile does), e.g. ANSIBLE_COLLECTIONS_PATH=$PWD/.cache/"
            "collections"
        )
    for base in map(Path, paths):
        # Ansible accepts the directory that holds ansible_collections/, or that directory itself.
        root = base if base.name == "ansible_collections" else base / "ansible_collections"
        candidate = root / "idm_automation" / "cluster"
        if (candidate / "playbooks" / "site.yml").is_file():
            return candidate, ""
    return None, (
        f"idm_automation.cluster is not installed in ANSIBLE_COLLECTIONS_PATH={':'.join(paths)} "
        "(no ansible_collections/idm_automation/cluster/playbooks/site.yml); run `make collection`"
    )
