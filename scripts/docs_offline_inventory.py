"""Offline intersphinx inventory for the docs site that `make docs` builds (scripts/build-docs).

The pages antsibull-docs generates refer to the Ansible docs (reference pages, plugins of other
collections). Instead of downloading the published inventory, ``offline_inventory`` writes a local
one for exactly those references, each checked against what is installed and pointing at its
published page; a reference to anything that does not exist stays unresolved and, with ``-W``,
fails the build. scripts/build-docs copies this file beside the site's ``conf.py`` and appends::

    intersphinx_mapping = {
        "ansible_devel": (intersphinx_mapping["ansible_devel"][0], offline_inventory(__file__)),
    }
"""

from __future__ import annotations

import importlib.util
import re
import zlib
from pathlib import Path

from docutils.nodes import make_id

# Reference labels of the Ansible docs that are pages, not plugins: (page, title).
PAGES = {
    "common_return_values": ("reference_appendices/common_return_values.html", "Return Values"),
    "ansible_configuration_settings": (
        "reference_appendices/config.html",
        "Ansible Configuration Settings",
    ),
}
PLUGIN_LABEL = re.compile(r"ansible_collections\.(\w+)\.(\w+)\.(\w+)_(\w+?)(?:__\S+)?")
HEADER = (
    b"# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
    b"# The remainder of this file is compressed using zlib.\n"
)


def references(rst_dir: Path) -> set[str]:
    """Labels the pages under ``rst_dir`` refer to (``:ref:``) but do not define themselves."""
    refs: set[str] = set()
    defined: set[str] = set()
    for page in rst_dir.rglob("*.rst"):
        text = page.read_text(encoding="utf-8")
        for inner in re.findall(r":ref:`([^`]*)`", text):
            refs.add(inner[inner.rindex("<") + 1 : -1] if inner.endswith(">") else inner)
        defined.update(re.findall(r"^\.\. _([^:\s]+):\s*\n", text, re.M))
    return refs - defined


def plugin_exists(namespace: str, collection: str, name: str, kind: str) -> bool:
    """Whether the installed ansible-core or collection has the plugin (or role) ``name``."""
    if (namespace, collection) == ("ansible", "builtin"):
        spec = importlib.util.find_spec("ansible")
        if spec is None or spec.origin is None:
            return False
        root = Path(spec.origin).parent
        folder = root / "modules" if kind == "module" else root / "plugins" / kind
    else:
        spec = importlib.util.find_spec(f"ansible_collections.{namespace}.{collection}")
        if spec is None or not spec.submodule_search_locations:
            return False
        root = Path(next(iter(spec.submodule_search_locations)))
        if kind == "role":
            folder = root / "roles"
        else:
            folder = root / "plugins" / ("modules" if kind == "module" else kind)
    return any((folder / (name + ext)).exists() for ext in ("", ".py", ".yml", ".yaml"))


def inventory_lines(labels: set[str]) -> list[str]:
    """One inventory line per label that names an Ansible docs page or an installed plugin."""
    lines = []
    for label in sorted(labels):
        if label in PAGES:
            lines.append(f"{label} std:label -1 {PAGES[label][0]} {PAGES[label][1]}")
            continue
        match = PLUGIN_LABEL.fullmatch(label)
        if match and plugin_exists(*match.groups()):
            namespace, collection, name, kind = match.groups()
            uri = f"collections/{namespace}/{collection}/{name}_{kind}.html#{make_id(label)}"
            lines.append(f"{label} std:label -1 {uri} {namespace}.{collection}.{name}")
    return lines


def offline_inventory(conf_file: str) -> str:
    """Write ``ansible_devel.inv`` beside ``conf_file`` for the site's rst/ pages; its path."""
    here = Path(conf_file).resolve().parent
    lines = inventory_lines(references(here / "rst"))
    path = here / "ansible_devel.inv"
    path.write_bytes(HEADER + zlib.compress("".join(line + "\n" for line in lines).encode()))
    return str(path)
