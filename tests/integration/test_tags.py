"""Partial runs of site.yml: each documented tag selects only its phase, and preflight always runs.

``ansible-playbook --list-tasks --tags T`` lists what a run with that tag would execute (imports
are static, so every phase's tasks are listed with their tags); nothing connects to any host. A
scenario step (molecule/default, verify-tags.yml) runs ``--tags config`` for real on the converged
cluster.
"""

from __future__ import annotations

import re
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

PLAY = re.compile(r"^\s+play #(\d+) \(.*?\): (.*?)\tTAGS:")

# One task of each phase, by the name it is listed with.
IDM = "idm_automation.cluster.idm : "
MARKERS = {
    "install": IDM + "Install the systemd unit and its environment file where they differ",
    "stop": IDM + "Stop the instance and wait until its ports close",
    "repository": IDM + "Put the PostgreSQL repository configuration in place, remove repo.ds.json",
    "config": IDM + "Write the files that differ and remove stale schedules and listeners "
    "written earlier",
    "secrets": IDM + "The chosen secrets mode has what it needs",
    "start": IDM + "Start the other nodes",
    "loadbalancer": "idm_automation.cluster.loadbalancer : Write the HAProxy configuration "
    "(validated before it is installed)",
}
PREFLIGHT = "idm_automation.cluster.preflight : Refuse the cluster description"
# The phases a tag runs besides its own: an instance that is not a member of this cluster as
# configured is stopped before anything it reads at start changes.
ALSO = {"install": {"stop"}, "repository": {"stop"}, "config": {"stop"}, "secrets": {"stop"}}


def listed(tmp_path: Path, *args: str) -> list[tuple[str, set[str]]]:
    (tmp_path / "hosts.yml").write_text(LIST_TASKS_INVENTORY)
    done = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", str(tmp_path / "hosts.yml"), "idm_automation.cluster.site",
         "--list-tasks", *args],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    tasks = []
    for line in done.stdout.splitlines():
        match = LISTED_TASK.match(line)
        if match:
            tags = {t.strip() for t in match[2].split(",") if t.strip()}
            tasks.append((match[1].strip(), tags))
    return tasks


def test_a_full_run_lists_every_phase(tmp_path: Path) -> None:
    names = {name for name, _ in listed(tmp_path)}
    assert {PREFLIGHT, *MARKERS.values()} <= names


@pytest.mark.parametrize("tag", sorted(MARKERS))
def test_each_tag_runs_its_phase_and_preflight_only(tmp_path: Path, tag: str) -> None:
    tasks = listed(tmp_path, "--tags", tag)
    names = {name for name, _ in tasks}
    assert PREFLIGHT in names, "preflight must always run"
    wanted = {tag} | ALSO.get(tag, set())
    for phase, marker in MARKERS.items():
        assert (marker in names) == (phase in wanted), f"--tags {tag}: {phase} ({marker})"
    for name, tags in tasks:
        assert "always" in tags or tag in tags, f"--tags {tag} lists {name} tagged {tags}"


def test_tag_preflight_runs_the_checks_alone_and_cannot_be_skipped(tmp_path: Path) -> None:
    """Preflight's tasks are tagged always only: --tags preflight selects nothing else, and
    --skip-tags preflight skips nothing."""
    names = {name for name, _ in listed(tmp_path, "--tags", "preflight")}
    assert PREFLIGHT in names and not names & set(MARKERS.values())
    names = {name for name, _ in listed(tmp_path, "--skip-tags", "preflight", "--tags", "config")}
    assert PREFLIGHT in names
