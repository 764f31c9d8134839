"""Each role imported alone into a foreign playbook refuses a missing required variable.

Users import single roles into playbooks of their own. Whatever a role needs from them must be
declared in its ``meta/argument_specs.yml``, so that forgetting it fails at once, with the message
of the argument spec validation and before any task of the role runs. For every role and every
required option of its ``main`` entry point, a playbook imports only that role, with every other
required option set, and the run must fail in "Validating arguments against arg spec" naming
exactly the missing option, with no change and no task of the role reached. A last case sets all
required options and shows the validation passing, so that the failures come from the missing
option and not from the harness: with only its required options, each role gets past the
validation to its first contact with the host, without an undefined variable on the way.

The only host is unreachable on purpose (``ssh`` to 127.0.0.1 port 1, connection refused): the
validation runs on the controller, and nothing on this machine or anywhere else is changed.
"""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from installed_collection import ANSIBLE_PLAYBOOK, UNREACHABLE_HOST, find_collection

COLLECTION, NOT_INSTALLED = find_collection()
pytestmark = pytest.mark.skipif(COLLECTION is None, reason=NOT_INSTALLED)
REPO_ROOT = Path(__file__).resolve().parents[2]
VALIDATION = "Validating arguments against arg spec 'main'"
RECAP = re.compile(r"^target\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


def required_options() -> dict[str, list[str]]:
    """Role name -> the required options of its main entry point, from this checkout."""
    found: dict[str, list[str]] = {}
    for spec in sorted(REPO_ROOT.glob("roles/*/meta/argument_specs.yml")):
        options = yaml.safe_load(spec.read_text())["argument_specs"]["main"].get("options") or {}
        names = sorted(name for name, option in options.items() if option.get("required"))
        if names:
            found[spec.parent.parent.name] = names
    return found


REQUIRED = required_options()
CASES = [(role, name) for role, names in REQUIRED.items() for name in names]


def dummy(role: str, name: str) -> str:
    return f"dummy-{role}-{name}"


INVENTORY = {
    "all": {
        "children": {
            "idm_nodes": {
                "hosts": {
                    # Unreachable on purpose (connection refused on loopback): the argument
                    # validation runs on the controller, the first real task reports unreachable.
                    "target": dict(UNREACHABLE_HOST),
                }
            }
        }
    }
}


def playbook(role: str, given: list[str]) -> list[dict]:
    """A foreign playbook: the user's own play that imports one role, with some variables."""
    return [
        {
            "name": f"A playbook of the user's own that imports {role}",
            "hosts": "all",
            "gather_facts": False,
            "become": True,
            "tasks": [
                {
                    "name": "Import the role alone",
                    "ansible.builtin.import_role": {"name": f"idm_automation.cluster.{role}"},
                    "vars": {name: dummy(role, name) for name in given},
                },
            ],
        }
    ]


def run(book: list[dict], workdir: Path) -> subprocess.CompletedProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "playbook.yml").write_text(yaml.safe_dump(book, sort_keys=False))
    (workdir / "hosts.yml").write_text(yaml.safe_dump(INVENTORY, sort_keys=False))
    return subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", "hosts.yml", "playbook.yml"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=workdir,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[tuple[str, str], subprocess.CompletedProcess]:
    base = tmp_path_factory.mktemp("single-roles")
    jobs = {
        (role, name): playbook(role, [n for n in REQUIRED[role] if n != name])
        for role, name in CASES
    }
    jobs.update({(role, ""): playbook(role, REQUIRED[role]) for role in REQUIRED})
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            key: pool.submit(run, book, base / f"{key[0]}-{key[1] or 'all'}")
            for key, book in jobs.items()
        }
        return {key: future.result() for key, future in futures.items()}


def recap(done: subprocess.CompletedProcess) -> tuple[int, ...]:
    for line in done.stdout.splitlines():
        match = RECAP.match(line)
        if match:
            return tuple(int(g) for g in match.groups())
    raise AssertionError(f"no PLAY RECAP in the output:\n{done.stdout[-3000:]}\n{done.stderr}")


def test_roles_declare_their_required_variables():
    """The roles users must give secrets or the repository to say so in their specs."""
    assert {"node", "repository", "start", "status"} <= set(REQUIRED)
    assert "idm_keystore_password" in REQUIRED["node"]
    assert {"idm_repo_host", "idm_repo_password"} <= set(REQUIRED["repository"])
    assert "idm_admin_password" in REQUIRED["start"]


@pytest.mark.parametrize(("role", "name"), CASES, ids=[f"{r}-{n}" for r, n in CASES])
def test_missing_required_variable_fails_in_argument_validation(runs, role, name):
    done = runs[(role, name)]
    detail = f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-2000:]}"
    assert done.returncode != 0, detail
    assert recap(done)[1:] == (0, 0, 1), detail
    # The failing task is the role's validation, and the message names the missing option.
    failing = done.stdout[: done.stdout.index("fatal:")].rsplit("TASK [", 1)[1]
    assert failing.startswith(f"idm_automation.cluster.{role} : {VALIDATION}"), detail
    assert f"missing required arguments: {name}" in done.stdout, detail
    others = [n for n in REQUIRED[role] if n != name]
    assert not any(f"missing required arguments: {n}" in done.stdout for n in others), detail
    # No task of the role after the validation was reached.
    assert done.stdout.count(f"TASK [idm_automation.cluster.{role} :") == 1, detail


@pytest.mark.parametrize("role", sorted(REQUIRED))
def test_all_required_variables_given_get_past_the_validation(runs, role):
    """With its required variables alone, a role gets to its first contact with the host."""
    done = runs[(role, "")]
    detail = f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-2000:]}"
    assert "missing required arguments" not in done.stdout, detail
    assert "fatal: [target]: FAILED" not in done.stdout, detail
    assert "fatal: [target]: UNREACHABLE" in done.stdout, detail
    assert "Connection refused" in done.stdout, detail
    assert recap(done)[1:] == (0, 1, 0), detail
