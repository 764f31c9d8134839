#!/usr/bin/env python3
"""Refuse backslash escapes in the Jinja string literals of YAML templates.

ansible-core 2.19 and later do not unescape a Jinja string literal inside a templated YAML value
(`"{{ x | join('\\n') }}"`, a `>-` block with `split('\\n')`): the backslash and the letter reach
the filter as two characters. A PEM joined with '\\n' became unreadable that way, and a regex
written with a doubled backslash ('\\\\b') matched a backslash, not a word boundary. Conditionals
(`when:`, `until:`, `that:`) are compiled differently and do unescape, which makes the same
spelling mean two things; this check looks at templated values only (those holding `{{` or
`{%`) and lists every literal with an escape other than a single backslash before a regex
character. Write a newline as a literal YAML block or with `splitlines()`, and a regex with one
backslash (`'\\b'`, `'\\1'`), or a character class (`'[.]'`).

Usage: jinja_escapes.py PATH...   (files or directories; *.yml and *.yaml under them)
Exits non-zero and lists every problem.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import yaml

# In a Jinja literal these spell a character the YAML template does not get under ansible-core
# 2.19+: a newline, tab or carriage return, an escaped quote, or a backslash written twice.
ESCAPE = re.compile(r"\\[ntr'\"\\]")
SKIP_DIRS = {".cache", ".venv", "node_modules", ".git"}


class AnyTagLoader(yaml.SafeLoader):
    """SafeLoader that reads a value with any tag (!vault, !unsafe) as the plain value."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


AnyTagLoader.add_multi_constructor("!", _untagged)


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a loaded YAML document, with a dotted path to it."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")


def escaped_literals(template: str) -> list[str]:
    """The Jinja string literals of a template that hold a backslash escape (raw, quotes kept)."""
    if "{{" not in template and "{%" not in template:
        return []
    try:
        tokens = list(jinja2.Environment().lex(template))
    except jinja2.TemplateSyntaxError:
        return []  # ansible-lint and the runs report a template that does not parse
    return [raw for _, kind, raw in tokens if kind == "string" and ESCAPE.search(raw)]


def problems(file: Path) -> list[str]:
    """One line per escaped literal in the file's templated values."""
    try:
        documents = list(yaml.load_all(file.read_text(encoding="utf-8"), Loader=AnyTagLoader))
    except yaml.YAMLError:
        return []  # yamllint reports a file that does not load
    return [
        f"{file}: {path}: {literal}"
        for document in documents
        for path, value in strings(document)
        for literal in escaped_literals(value)
    ]


def yaml_files(paths: list[str]) -> Iterator[Path]:
    for name in paths:
        root = Path(name)
        if root.is_file():
            yield root
            continue
        for file in sorted(root.rglob("*.y*ml")):
            if file.suffix in {".yml", ".yaml"} and not SKIP_DIRS.intersection(file.parts):
                yield file


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    found = [line for file in yaml_files(argv) for line in problems(file)]
    for line in found:
        print(line)
    if found:
        print(
            f"{len(found)} Jinja string literal(s) with a backslash escape in a templated value: "
            "ansible-core 2.19+ passes the backslash through (see tests/lint/jinja_escapes.py)",
            file=sys.stderr,
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
