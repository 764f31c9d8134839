"""Each role, and each phase of the idm role, imported alone into a foreign playbook refuses a
missing required variable.

Users import single roles, or single phases of the idm role (``tasks_from: install``, ...), into
playbooks of their own. Whatever an entry point needs from them must be declared in its
``meta/argument_specs.yml`` entry, so that forgetting it fails at once, with the message of the
argument spec validation and before any task of the role runs. For every entry point (the idm
role's main, install, stop, repository, configure, secrets, start and restart; the main entry
point of preflight, loadbalancer and status) and every required option of it, a playbook imports
only that entry point, with every other required option set, and the run must fail in
"Validating arguments against arg spec '<entry point>'" naming exactly the missing option, with
no change and no task of the role reached. A last case per entry point sets all required options
and shows the validation passing, so that the failures come from the missing option and not from
the harness: with only its required options (and, where a role's own first check asks for one of
two settings, that setting: see ``ALSO_GIVEN``), each entry point gets past the validation to its
first contact with the host, without an undefined variable on the way.

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
RECAP = re.compile(r"^target\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


# Entry points that contact no host by design, tested on their own below; and restore, which
# checks the backup on the controller before any host (tests/integration/test_restore_refusals.py).
NO_HOST_CONTACT = {("idm", "expected"), ("backup", "restore")}
# Settings that a role's first check (not its argument spec: it is one of two options) asks for,
# given in every case so that the run gets to the host.
DISTRIBUTION = {"idm_distribution_src": "/nonexistent/openidm-8.1.0.zip"}
ALSO_GIVEN: dict[tuple[str, str], dict[str, object]] = {
    ("idm", "main"): DISTRIBUTION,
    ("idm", "install"): DISTRIBUTION,
    # A rotation step does nothing without a new secret to rotate to (dummies: nothing is secret).
    **{
        ("idm", entry): {
            "idm_repo_password_new": "dummy-new",
            "idm_admin_password_new": "dummy-new-2",
            # its first contact is no_log (it carries a password): show the refused connection
            "idm_no_log": False,
        }
        for entry in ("rotate_check", "rotate_repository", "rotate_node", "rotate_admin")
    },
    # its first contact carries the admin password (no_log): show the refused connection
    ("upgrade", "finish"): {"idm_no_log": False},
    # preflight checks every input before it contacts a host (inputs.yml).
    ("preflight", "main"): {
        **DISTRIBUTION,
        "idm_repo_host": "db.invalid",
        "idm_repo_password": "dummy",
        "idm_keystore_password": "dummy",
        "idm_admin_password": "dummy",
    },
}


def entry_points() -> dict[tuple[str, str], list[str]]:
    """(role, entry point) -> the entry point's required options, from this checkout."""
    found: dict[tuple[str, str], list[str]] = {}
    for spec in sorted(REPO_ROOT.glob("roles/*/meta/argument_specs.yml")):
        role = spec.parent.parent.name
        if role == "common":  # shared variables only: validated as every role's dependency
            continue
        for entry, body in yaml.safe_load(spec.read_text())["argument_specs"].items():
            if (role, entry) in NO_HOST_CONTACT:
                continue
            options = body.get("options") or {}
            found[(role, entry)] = sorted(n for n, o in options.items() if o.get("required"))
    return found


ENTRY_POINTS = entry_points()
CASES = [(role, entry, name) for (role, entry), names in ENTRY_POINTS.items() for name in names]


def label(role: str, entry: str) -> str:
    return role if entry == "main" else f"{role}.{entry}"


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


def playbook(role: str, entry: str, given: list[str]) -> list[dict]:
    """A foreign playbook: the user's own play that imports one entry point, with some variables."""
    imported = {"name": f"idm_automation.cluster.{role}"}
    if entry != "main":
        imported["tasks_from"] = entry
    return [
        {
            "name": f"A playbook of the user's own that imports {label(role, entry)}",
            "hosts": "all",
            "gather_facts": False,
            "become": True,
            "tasks": [
                {
                    "name": "Import the entry point alone",
                    "ansible.builtin.import_role": imported,
                    "vars": {
                        **ALSO_GIVEN.get((role, entry), {}),
                        **{name: dummy(role, name) for name in given},
                    },
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
def runs(tmp_path_factory) -> dict[tuple[str, str, str], subprocess.CompletedProcess]:
    base = tmp_path_factory.mktemp("single-roles")
    jobs = {
        (role, entry, name): playbook(
            role, entry, [n for n in ENTRY_POINTS[(role, entry)] if n != name]
        )
        for role, entry, name in CASES
    }
    jobs.update(
        {
            (role, entry, ""): playbook(role, entry, names)
            for (role, entry), names in ENTRY_POINTS.items()
        }
    )
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            key: pool.submit(run, book, base / f"{label(key[0], key[1])}-{key[2] or 'all'}")
            for key, book in jobs.items()
        }
        return {key: future.result() for key, future in futures.items()}


def recap(done: subprocess.CompletedProcess) -> tuple[int, ...]:
    for line in done.stdout.splitlines():
        match = RECAP.match(line)
        if match:
            return tuple(int(g) for g in match.groups())
    raise AssertionError(f"no PLAY RECAP in the output:\n{done.stdout[-3000:]}\n{done.stderr}")


def test_entry_points_declare_their_required_variables():
    """The entry points users must give secrets or the repository to say so in their specs."""
    assert {
        ("idm", e)
        for e in (
            "main",
            "install",
            "stop",
            "repository",
            "configure",
            "secrets",
            "start",
            "restart",
        )
    } <= set(ENTRY_POINTS)
    assert {("preflight", "main"), ("loadbalancer", "main"), ("status", "main")} <= set(
        ENTRY_POINTS
    )
    assert "idm_keystore_password" in ENTRY_POINTS[("idm", "configure")]
    assert {"idm_repo_host", "idm_repo_password"} <= set(ENTRY_POINTS[("idm", "repository")])
    assert "idm_admin_password" in ENTRY_POINTS[("idm", "start")]
    assert "idm_admin_password" in ENTRY_POINTS[("status", "main")]
    # main runs every phase, so it needs what each of them needs.
    phases = [
        names for (role, entry), names in ENTRY_POINTS.items() if role == "idm" and entry != "main"
    ]
    assert set(ENTRY_POINTS[("idm", "main")]) == {n for names in phases for n in names}


@pytest.mark.parametrize(
    ("role", "entry", "name"), CASES, ids=[f"{label(r, e)}-{n}" for r, e, n in CASES]
)
def test_missing_required_variable_fails_in_argument_validation(runs, role, entry, name):
    done = runs[(role, entry, name)]
    detail = f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-2000:]}"
    assert done.returncode != 0, detail
    assert recap(done)[1:] == (0, 0, 1), detail
    # The failing task is the entry point's validation, and the message names the missing option.
    failing = done.stdout[: done.stdout.index("fatal:")].rsplit("TASK [", 1)[1]
    validation = f"Validating arguments against arg spec '{entry}'"
    assert failing.startswith(f"idm_automation.cluster.{role} : {validation}"), detail
    assert f"missing required arguments: {name}" in done.stdout, detail
    others = [n for n in ENTRY_POINTS[(role, entry)] if n != name]
    assert not any(f"missing required arguments: {n}" in done.stdout for n in others), detail
    # No task of the role after the validation was reached.
    assert done.stdout.count(f"TASK [idm_automation.cluster.{role} :") == 1, detail


@pytest.mark.parametrize(
    ("role", "entry"), sorted(ENTRY_POINTS), ids=[label(r, e) for r, e in sorted(ENTRY_POINTS)]
)
def test_all_required_variables_given_get_past_the_validation(runs, role, entry):
    """With its required variables alone, an entry point gets to its first contact with the host."""
    done = runs[(role, entry, "")]
    detail = f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-2000:]}"
    assert f"Validating arguments against arg spec '{entry}'" in done.stdout, detail
    assert "missing required arguments" not in done.stdout, detail
    assert "fatal: [target]: FAILED" not in done.stdout, detail
    # the first contact may be delegated (rotate_check logs in from the DDL host, here target too)
    assert re.search(r"fatal: \[target( -> [^\]]*)?\]: UNREACHABLE", done.stdout), detail
    assert "Connection refused" in done.stdout, detail
    assert recap(done)[1:] == (0, 1, 0), detail


def test_expected_entry_point_renders_without_contacting_the_host(tmp_path):
    """preflight's comparison entry point of the idm role renders on the controller only."""
    book = playbook("idm", "expected", [])
    book[0]["tasks"][0]["vars"].update({"idm_repo_host": "db.invalid", "idm_repo_password": "x"})
    book[0]["tasks"].append(
        {
            "name": "Show the expected datasource checksum",
            "ansible.builtin.assert": {
                "that": [
                    "__idm_expected_datasource_sha256 is match('^[0-9a-f]{64}$')",
                    "__idm_expected_boot_properties_sha256 is none",
                ]
            },
        }
    )
    done = run(book, tmp_path)
    detail = f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-2000:]}"
    assert done.returncode == 0, detail
    assert "Validating arguments against arg spec 'expected'" in done.stdout, detail
    assert recap(done)[1:] == (0, 0, 0), detail
