#!/usr/bin/env python3
"""Write every role's README.md from its meta/argument_specs.yml, or check that it is current.

The argument specs are the one description of a role's variables (ansible-doc shows them, Ansible
validates against them); the READMEs are rendered from them so that they cannot drift.
  role_readmes.py roles            write the READMEs
  role_readmes.py --check roles    exit 1 and name the READMEs that are out of date
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

# Hosts each role is meant to run on, for the usage example.
HOSTS = {
    "loadbalancer": "idm_loadbalancers",
    "preflight": "idm_nodes:idm_loadbalancers:idm_standalone",
    "status": "idm_nodes:idm_loadbalancers",
}
MARKUP = [
    (re.compile(r"[CIBMPOVE]\(([^)]*)\)"), r"`\1`"),
    (re.compile(r"\|"), r"\|"),
]


def text(value: Any) -> str:
    """Ansible doc markup (C(), I(), ...) as Markdown, one paragraph."""
    parts = value if isinstance(value, list) else [value or ""]
    joined = " ".join(str(part).strip() for part in parts)
    for pattern, replacement in MARKUP:
        joined = pattern.sub(replacement, joined)
    return joined


def default_cell(spec: dict[str, Any], defaults: dict[str, Any], name: str) -> str:
    if spec.get("required"):
        return "required"
    value = defaults.get(name, spec.get("default"))
    if value is None:
        return "-"
    if isinstance(value, str) and "{{" in value:
        rendered = value  # a Jinja expression reads best as written, without YAML quoting
    else:
        rendered = (
            yaml.safe_dump(value, default_flow_style=True, width=10_000)
            .strip()
            .removesuffix("\n...")
        )
    return "`" + rendered.replace("|", "\\|") + "`"


def table(options: dict[str, Any], defaults: dict[str, Any]) -> list[str]:
    lines = [
        "| variable | type | default | description |",
        "|---|---|---|---|",
    ]
    for option, spec in sorted(options.items()):
        kind = spec.get("type", "str")
        if spec.get("elements"):
            kind += f" of {spec['elements']}"
        if spec.get("choices"):
            kind += " (" + ", ".join(f"`{c}`" for c in spec["choices"]) + ")"
        lines.append(
            f"| `{option}` | {kind} | {default_cell(spec, defaults, option)} "
            f"| {text(spec.get('description'))} |"
        )
    return lines


def render(role: Path) -> str:
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    main = specs["main"]
    others = {name: spec for name, spec in specs.items() if name != "main"}
    defaults = (
        yaml.safe_load((role / "defaults" / "main.yml").read_text() or "{}") or {}
        if (role / "defaults" / "main.yml").exists()
        else {}
    )
    name = f"idm_automation.cluster.{role.name}"
    lines = [
        f"# {name}",
        "",
        text(main.get("short_description")),
        "",
        *[f"{text(paragraph)}\n" for paragraph in main.get("description", [])],
        "## Use",
        "",
        "```yaml",
        f"- hosts: {HOSTS.get(role.name, 'idm_nodes')}",
        "  become: true",
        "  roles:",
        f"    - role: {name}",
        "```",
        "",
    ]
    if others:
        first = next(iter(others))
        lines += [
            "One entry point alone (validated against its own options; name it without `.yml`):",
            "",
            "```yaml",
            f"- hosts: {HOSTS.get(role.name, 'idm_nodes')}",
            "  become: true",
            "  tasks:",
            "    - ansible.builtin.import_role:",
            f"        name: {name}",
            f"        tasks_from: {first}",
            "```",
            "",
            "## Entry points",
            "",
            "| entry point | does | options |",
            "|---|---|---|",
            f"| `main` | {text(main.get('short_description'))} | all of the table below |",
        ]
        for entry, spec in others.items():
            options = sorted(spec.get("options") or {})
            cell = ", ".join(f"`{o}`" for o in options) or "-"
            lines.append(f"| `{entry}` | {text(spec.get('short_description'))} | {cell} |")
        lines.append("")
    lines += ["## Variables", "", *table(main.get("options") or {}, defaults)]
    for entry, spec in others.items():
        lines += ["", f"### Entry point `{entry}`", ""]
        lines += [f"{text(paragraph)}\n" for paragraph in spec.get("description", [])]
    if role.name != "common":
        lines += [
            "",
            "The shared variables of the cluster (repository, node IDs, listeners, secrets mode,",
            "...) are those of [`idm_automation.cluster.common`](../common/README.md).",
        ]
    lines += [
        "",
        "<!-- Generated from meta/argument_specs.yml by `make role-docs`; edit that file. -->",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    roles_dir = Path(next((a for a in argv if not a.startswith("--")), "roles"))
    stale = []
    for role in sorted(
        p for p in roles_dir.iterdir() if (p / "meta" / "argument_specs.yml").exists()
    ):
        readme = role / "README.md"
        content = render(role)
        if readme.exists() and readme.read_text() == content:
            continue
        if check:
            stale.append(str(readme))
        else:
            readme.write_text(content)
            print(f"wrote {readme}")
    for path in stale:
        print(f"{path} is out of date: run make role-docs")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
