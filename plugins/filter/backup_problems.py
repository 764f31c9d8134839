# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup_problems filter: why a backup may not be restored onto this cluster."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.idm_automation.cluster.plugins.module_utils.repository_identity import (
    same_repository,
)

DOCUMENTATION = r"""
name: backup_problems
short_description: The reasons a backup directory may not be restored onto the inventory's cluster
version_added: 0.1.0
author: idm_automation maintainers (@idm-automation)
description:
  - Compares the manifest of a backup (written by the C(backup) role) with what the restore found
    and what the inventory describes, and returns one sentence per problem, empty when the backup
    may be restored.
  - Checksums first. Every file the manifest lists must exist with the sha256 recorded there, and
    the C(SHA256SUMS) file must list the same files and the manifest's own checksum, so a file
    that was changed, lost or swapped is refused before anything is read from it.
  - Then identity. The node IDs of the backup must be the inventory's node IDs (a backup of another
    cluster, or of this cluster before it grew or shrank, is refused), the repository
    (host, port, database) must be the configured one, and the product version must be the
    configured C(idm_version) and the release installed on every node.
  - Pure, no I/O. The restore reads the files and states and passes them in.
positional: _input, expected, found, listed
options:
  _input:
    description: The parsed C(manifest.json) of the backup.
    type: dict
    required: true
  expected:
    description:
      - What the inventory describes. C(node_ids) (list), C(repository) (dict of C(host), C(port),
        C(database)), C(version) (the configured C(idm_version)) and C(installed) (dict of host to
        the release version installed there).
    type: dict
    required: true
  found:
    description: File name in the backup directory to its sha256, for the files that exist.
    type: dict
    required: true
  listed:
    description: File name to sha256 as the backup's C(SHA256SUMS) lists them.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse a backup that does not belong here
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join(' ') }}"
  vars:
    problems: "{{ manifest | idm_automation.cluster.backup_problems(expected, found, listed) }}"

# manifest node_ids [a, b], expected node_ids [a, c]
#   -> ["the backup is of another cluster: its node IDs are a, b, the inventory's are a, c ..."]
"""

RETURN = r"""
_value:
  description: One sentence per problem (what is wrong and what to do); empty when none.
  type: list
  elements: str
"""

FORMAT = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
REQUIRED_FILES = (
    "repository.pgc",
    "keystore",
    "truststore",
    "secrets.json",
    "boot.properties",
    "conf.tar.gz",
)


def _checksum_problems(
    manifest: Mapping[str, Any], found: Mapping[str, str], listed: Mapping[str, str]
) -> list[str]:
    files = manifest.get("files")
    if not isinstance(files, Mapping):
        return ["the manifest lists no files; it was not written by the backup playbook"]
    problems = [
        f"the manifest does not list {name}" for name in REQUIRED_FILES if name not in files
    ]
    for name in sorted(files):
        if name not in found:
            problems.append(f"{name} is missing from the backup directory")
        elif found[name] != files[name]:
            problems.append(
                f"{name} does not have the sha256 the manifest recorded (changed or damaged)"
            )
    if MANIFEST not in listed:
        problems.append(f"{SUMS} does not list {MANIFEST}")
    elif found.get(MANIFEST) != listed[MANIFEST]:
        problems.append(f"{MANIFEST} does not have the sha256 {SUMS} recorded (changed or damaged)")
    if sorted(set(listed) - {MANIFEST}) != sorted(files) or any(
        listed[n] != files[n] for n in files if n in listed
    ):
        problems.append(f"{SUMS} and {MANIFEST} do not list the same files and checksums")
    return problems


def _identity_problems(manifest: Mapping[str, Any], expected: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    cluster = manifest.get("cluster") or {}
    ours = sorted(str(n) for n in expected.get("node_ids", []))
    theirs = sorted(str(n) for n in cluster.get("node_ids", []))
    if ours != theirs:
        problems.append(
            f"the backup is of another cluster: its node IDs are {', '.join(theirs) or 'none'}, the"
            f" inventory's are {', '.join(ours)}; restore it with the inventory it was taken with"
        )
    repo = manifest.get("repository") or {}
    conf = expected.get("repository") or {}
    if not same_repository(dict(repo), dict(conf)):
        problems.append(
            "the backup is of another repository: {}:{}/{}, the inventory's is {}:{}/{}".format(
                repo.get("host"),
                repo.get("port"),
                repo.get("database"),
                conf.get("host"),
                conf.get("port"),
                conf.get("database"),
            )
        )
    version = str((manifest.get("product") or {}).get("version", ""))
    if version != str(expected.get("version", "")):
        problems.append(
            f"the backup is of product version {version or 'unknown'}, idm_version is"
            f" {expected.get('version')}; restore it onto the version it was taken from"
        )
    for host, installed in sorted((expected.get("installed") or {}).items()):
        if str(installed) != version:
            problems.append(
                f"{host} has release {installed or 'none'} installed,"
                f" the backup is of {version or 'unknown'}"
            )
    return problems


def backup_problems(
    manifest: Mapping[str, Any],
    expected: Mapping[str, Any],
    found: Mapping[str, str],
    listed: Mapping[str, str],
) -> list[str]:
    """Every reason the backup described by ``manifest`` may not be restored, checksums first."""
    if not isinstance(manifest, Mapping) or manifest.get("format") != FORMAT:
        return [f"{MANIFEST} is not a backup manifest of format {FORMAT}"]
    return _checksum_problems(manifest, found, listed) + _identity_problems(manifest, expected)


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"backup_problems": backup_problems}
