#!/usr/bin/env python3
"""Keep every role's defaults/main.yml and meta/argument_specs.yml in sync.

Checks, for each role under the given directory, and each entry point of its argument_specs
(`main`, and for the idm role one per phase, imported with `tasks_from: <entry point>`):
- every variable in defaults/main.yml is documented in the `main` entry point (with a description
  and a type), and in at least one other entry point when the role has several;
- every entry point other than `main` has its tasks file, tasks/<entry point>.yml, and its options
  are options of `main` too, with the same spec (`main` runs every phase, so it needs what each
  needs, and one option is documented one way);
- every documented option has a default somewhere (the role's defaults, or those of the shared
  `common` role it depends on) or is marked required, or is declared without a default on purpose;
- a documented literal default equals the value in defaults/main.yml;
- no key is given twice in one mapping (merge keys included: Ansible warns about it);
- public variables start with `idm_`; internal ones (roles' vars/) with `__idm_`.
Exits non-zero and lists every problem.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

SHARED_ROLE = "common"


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping, merge keys (<<) included:
    Ansible warns about it on every run that loads the file."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        twice = sorted({str(k) for k in keys if keys.count(k) > 1})
        if twice:
            raise yaml.constructor.ConstructorError(
                None, None, f"key(s) {', '.join(twice)} given twice", node.start_mark
            )
        return super().construct_mapping(node, deep=deep)


def load(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=StrictLoader) if path.exists() else None


def is_template(value: Any) -> bool:
    """True when the value, or anything inside it, is a Jinja expression (resolved at run time)."""
    if isinstance(value, dict):
        return any(is_template(v) for v in value.values())
    if isinstance(value, list):
        return any(is_template(v) for v in value)
    return isinstance(value, str) and "{{" in value


def check_options(
    label: str, options: dict[str, Any], defaults: dict[str, Any], shared_defaults: dict[str, Any]
) -> list[str]:
    problems: list[str] = []
    for name, spec in options.items():
        if not spec.get("description"):
            problems.append(f"{label}: option {name} has no description")
        if not spec.get("type"):
            problems.append(f"{label}: option {name} has no type")
        has_default = name in defaults or name in shared_defaults
        if not has_default and not spec.get("required") and "default" in spec:
            problems.append(f"{label}: option {name} documents a default no defaults file sets")
        literal = name in defaults and not is_template(defaults[name])
        if literal and "default" in spec and spec["default"] != defaults[name]:
            problems.append(
                f"{label}: option {name} documents default {spec['default']!r} but "
                f"defaults/main.yml sets {defaults[name]!r}"
            )
    return problems


def check_role(role: Path, shared_defaults: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    defaults = load(role / "defaults" / "main.yml") or {}
    specs = load(role / "meta" / "argument_specs.yml")
    if specs is None:
        return [f"{role.name}: meta/argument_specs.yml is missing"]
    entries = specs.get("argument_specs") or {}
    if "main" not in entries:
        return [f"{role.name}: argument_specs has no main entry point"]
    options = entries["main"].get("options") or {}
    phases = {
        name: (body or {}).get("options") or {} for name, body in entries.items() if name != "main"
    }
    for name in defaults:
        if not name.startswith("idm_"):
            problems.append(f"{role.name}: default {name} does not start with idm_")
        if name not in options:
            problems.append(f"{role.name}: default {name} is not documented in argument_specs")
        elif phases and not any(name in opts for opts in phases.values()):
            problems.append(f"{role.name}: default {name} belongs to no entry point but main")
    problems += check_options(role.name, options, defaults, shared_defaults)
    for entry, entry_options in phases.items():
        label = f"{role.name}:{entry}"
        if not (role / "tasks" / f"{entry}.yml").is_file():
            problems.append(f"{label}: entry point without tasks/{entry}.yml")
        problems += check_options(label, entry_options, defaults, shared_defaults)
        for name, spec in entry_options.items():
            if name not in options:
                problems.append(f"{label}: option {name} is not an option of main")
            elif spec.get("required") and not options[name].get("required"):
                problems.append(f"{label}: option {name} is required here but not in main")
            elif {k: v for k, v in spec.items() if k != "description"} != {
                k: v for k, v in options[name].items() if k != "description"
            }:
                problems.append(f"{label}: option {name} is declared differently in main")
    for name in load(role / "vars" / "main.yml") or {}:
        if not name.startswith("__idm_"):
            problems.append(f"{role.name}: vars/main.yml variable {name} must start with __idm_")
    return problems


def main(roles_dir: str) -> int:
    roles = sorted(p for p in Path(roles_dir).iterdir() if (p / "tasks").is_dir())
    shared = load(Path(roles_dir) / SHARED_ROLE / "defaults" / "main.yml") or {}
    problems: list[str] = []
    entries = 0
    for role in roles:
        try:
            problems += check_role(role, shared)
            specs = load(role / "meta" / "argument_specs.yml") or {}
            entries += len(specs.get("argument_specs") or {})
        except yaml.YAMLError as error:
            problems.append(f"{role.name}: {error}")
    for problem in problems:
        print(problem)
    print(f"argument specs: {len(roles)} roles, {entries} entry points, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "roles"))
