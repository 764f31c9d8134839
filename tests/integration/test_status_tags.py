"""status.yml's output modes for cron and alerting: ``--tags json`` prints only the JSON report yet
still gathers everything, writes the files and fails when the cluster is unhealthy; ``--tags
table`` prints only the table. ``--list-tasks`` shows the selection without contacting any host; a
scenario step (molecule/default, verify-monitoring.yml) runs it for real and checks the exit codes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from installed_collection import (
    ANSIBLE_PLAYBOOK,
    LIST_TASKS_INVENTORY,
    LISTED_TASK,
    find_collection,
)

COLLECTION, NOT_INSTALLED = find_collection()
pytestmark = pytest.mark.skipif(COLLECTION is None, reason=NOT_INSTALLED)

STATUS = "idm_automation.cluster.status : "
ALWAYS = [
    "Read each node's service, readiness and version",
    "Ask a ready node for the cluster table",
    "Read each node's last check-in from the repository",
    "Read the load balancers' view of the nodes",
    "Summarise the cluster",
    "Write the status to a file on the controller",
    "Write each node's Prometheus endpoint as scrape targets (file_sd) on the controller",
    "Fail when the cluster is not healthy",
]


def listed(tmp_path: Path, *args: str) -> list[str]:
    (tmp_path / "hosts.yml").write_text(LIST_TASKS_INVENTORY)
    done = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", str(tmp_path / "hosts.yml"), "idm_automation.cluster.status",
         "--list-tasks", *args],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return [m.group(1) for line in done.stdout.splitlines() if (m := LISTED_TASK.match(line))]


@pytest.mark.parametrize(
    ("tag", "shown", "hidden"),
    [
        ("json", "Cluster status as JSON", "Cluster status"),
        ("table", "Cluster status", "Cluster status as JSON"),
    ],
)
def test_output_tags_keep_gathering_files_and_failure(tmp_path, tag, shown, hidden) -> None:
    tasks = listed(tmp_path, "--tags", tag)
    for name in [*ALWAYS, shown]:
        assert STATUS + name in tasks, f"--tags {tag} does not run {name!r}: {tasks}"
    assert STATUS + hidden not in tasks


def test_without_tags_both_outputs_are_listed(tmp_path) -> None:
    tasks = listed(tmp_path)
    assert {STATUS + "Cluster status", STATUS + "Cluster status as JSON"} <= set(tasks)
