"""What the managed_files action writes, removes and records on one node: pure, no I/O.

The action reads a node once (one file_checksums call: sha256, mode and owner of every file, and
the node's manifest), then ``plan`` decides. The manifest is the node's one record of what the
collection wrote: ``{"files": {path: sha256 of the content the collection rendered}}``. It serves
two purposes (contract rows C5 and C6):

- a file the product rewrites itself (``product_rewrites``: IDM encrypts the datasource password
  at start and writes the file back) is judged by its recorded sha256, never by its live bytes;
- only files the manifest lists can be pruned by a ``recorded_only`` rule: configuration IDM wrote
  into conf/ itself (a schedule made over REST) is never deleted.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MANIFEST_MODE = "0600"  # root only: what it records decides what the collection deletes


class PlanError(ValueError):
    """Bad input: a wanted file without path/content/mode, a bad rule or a corrupt manifest."""


@dataclass(frozen=True)
class Plan:
    """The changes one node needs."""

    write: list[dict[str, Any]] = field(default_factory=list)
    prune: list[str] = field(default_factory=list)
    missing_dirs: list[str] = field(default_factory=list)
    manifest: str | None = None  # new manifest content, or None when it stays as it is

    @property
    def changed(self) -> bool:
        return bool(self.write or self.prune or self.manifest is not None)


def sha256(text: Any) -> str:
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()


def parse_manifest(text: str | None, path: str = "manifest") -> dict[str, str]:
    """``{path: sha256}`` of a manifest; an absent one (None or empty) records nothing."""
    if not text:
        return {}
    try:
        files = json.loads(text).get("files")
    except (ValueError, AttributeError) as error:
        raise PlanError(
            f"{path} is not the collection's manifest ({error}); remove it and run again: "
            "the run then rewrites the files the product rewrites and records them anew"
        ) from None
    if not isinstance(files, Mapping):
        raise PlanError(f"{path} has no 'files' mapping; remove it and run again")
    return {str(k): str(v) for k, v in files.items()}


def render_manifest(files: Mapping[str, str]) -> str:
    return json.dumps({"files": dict(sorted(files.items()))}, indent=2) + "\n"


def _check(wanted: Iterable[Any], rules: Iterable[Any]) -> tuple[list[dict], list[dict]]:
    items = []
    for index, item in enumerate(wanted or []):
        if not isinstance(item, Mapping) or not {"path", "content", "mode"} <= set(item):
            raise PlanError(f"files[{index}] needs path, content and mode")
        if not isinstance(item["content"], str):
            raise PlanError(
                f"files[{index}].content must be a string, not {type(item['content']).__name__}"
            )
        if not posixpath.isabs(str(item["path"])):
            raise PlanError(f"files[{index}].path must be absolute: {item['path']}")
        items.append({**item, "mode": _mode(item["mode"])})
    paths = [i["path"] for i in items]
    if len(set(paths)) != len(paths):
        raise PlanError(
            f"files lists a path twice: {sorted({p for p in paths if paths.count(p) > 1})}"
        )
    checked = []
    for index, rule in enumerate(rules or []):
        if not isinstance(rule, Mapping) or not {"dir", "pattern"} <= set(rule):
            raise PlanError(f"prune[{index}] needs dir and pattern")
        checked.append({**rule, "dir": posixpath.normpath(str(rule["dir"]))})
    return items, checked


def _mode(mode: Any) -> str:
    """A mode as file_checksums reports it and write_files takes it: an octal string (a number,
    as unquoted YAML turns 0640 into, is the mode itself)."""
    return f"{mode:04o}" if isinstance(mode, int) else str(mode)


def _matches(path: str, rule: Mapping[str, Any]) -> bool:
    return posixpath.dirname(path) == rule["dir"] and fnmatch.fnmatchcase(
        posixpath.basename(path), str(rule["pattern"])
    )


def _differs(
    item: Mapping[str, Any],
    found: Mapping[str, Any] | None,
    recorded: Mapping[str, str],
    owner: str,
    group: str,
) -> bool:
    if found is None:
        return True
    digest = sha256(item["content"])
    if item.get("product_rewrites", False):
        same = recorded.get(str(item["path"])) == digest
    else:
        same = found.get("checksum") == digest
    return (
        not same
        or str(found.get("mode")) != item["mode"]
        or found.get("pw_name") != item.get("owner", owner)
        or found.get("gr_name") != item.get("group", group)
    )


def plan(
    wanted: Iterable[Mapping[str, Any]],
    found: Iterable[Mapping[str, Any]],
    manifest: str | None,
    owner: str,
    group: str,
    prune: Iterable[Mapping[str, Any]] = (),
    forget: Iterable[str] = (),
    missing_dirs: Iterable[str] = (),
    manifest_path: str = "manifest",
) -> Plan:
    """The files to write (in the order wanted), to remove (sorted) and the manifest to record.

    ``found`` is file_checksums' ``files`` over the wanted paths and the prune patterns. A found
    file is removed when it is not wanted, matches a prune rule and - unless the rule says
    ``recorded_only: false`` - the manifest lists it. The new manifest keeps the entries of other
    callers (paths this call neither wants nor prunes), drops ``forget`` paths and the files
    removed, and records the wanted ones.
    """
    items, rules = _check(wanted, prune)
    recorded = parse_manifest(manifest, manifest_path)
    current = {str(f["path"]): f for f in found or [] if isinstance(f, Mapping) and "path" in f}
    managed = {str(i["path"]) for i in items}
    write = [i for i in items if _differs(i, current.get(str(i["path"])), recorded, owner, group)]
    removed = sorted(
        path
        for path in current
        if path not in managed
        and any(
            _matches(path, r) and (path in recorded or r.get("recorded_only", True) is False)
            for r in rules
        )
    )
    gone = set(removed) | {str(p) for p in forget or []}
    gone |= {p for p in recorded if p not in current and any(_matches(p, r) for r in rules)}
    files = {p: s for p, s in recorded.items() if p not in gone}
    files.update({str(i["path"]): sha256(i["content"]) for i in items})
    new = render_manifest(files)
    stat = current.get(manifest_path)
    wrong = stat is not None and (stat.get("mode"), stat.get("pw_name"), stat.get("gr_name")) != (
        MANIFEST_MODE,
        "root",
        "root",
    )
    dirs = sorted({posixpath.dirname(str(i["path"])) for i in write} & set(missing_dirs or []))
    return Plan(
        write=write,
        prune=removed,
        missing_dirs=dirs,
        # An absent manifest records nothing, like an empty one: a caller with nothing to
        # write or record leaves no file behind.
        manifest=None if (manifest == new or (not manifest and not files)) and not wrong else new,
    )
