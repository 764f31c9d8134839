#!/usr/bin/python
# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sha256, mode and owner of a set of files in one call; absent files and folders are not errors."""

from __future__ import annotations

DOCUMENTATION = r"""
module: file_checksums
short_description: Read the sha256, mode and owner of many files in one call
version_added: 0.1.0
description:
  - Reads the files named by O(paths) (absolute paths; the last component may be a shell pattern
    such as C(schedule-*.json)) and returns, for each regular file that exists, the same keys
    M(ansible.builtin.find) returns with C(get_checksum) and C(checksum_algorithm=sha256).
  - A path whose folder does not exist yet (a host that was never deployed) is simply absent
    from the result and listed in RV(missing_dirs); unlike M(ansible.builtin.find) no warning is
    printed for it.
  - Symbolic links are followed only when they point at a regular file.
  - Read-only; never changes anything.
options:
  paths:
    description: Absolute paths of the files; the file name may be a shell pattern.
    type: list
    elements: path
    required: true
  read:
    description:
      - Absolute paths of small text files whose content is returned too, in RV(contents) (the
        manifest of the files the collection wrote, for example). They need not be in O(paths).
    type: list
    elements: path
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
author:
  - idm_automation maintainers (@idm-automation)
"""

EXAMPLES = r"""
- name: Read the managed files of a node
  idm_automation.cluster.file_checksums:
    paths:
      - /opt/idm/openidm/resolver/boot.properties
      - /opt/idm/openidm/conf/schedule-*.json
  register: found

- name: Show the checksum of every file found
  ansible.builtin.debug:
    msg: "{{ found.files | items2dict(key_name='path', value_name='checksum') }}"
"""

RETURN = r"""
files:
  description: The regular files found, sorted by path.
  returned: always
  type: list
  elements: dict
  contains:
    path: {description: Absolute path., type: str}
    checksum: {description: sha256 of the content., type: str}
    mode: {description: Permission bits as four octal digits (C(0640))., type: str}
    pw_name: {description: Owner name (the numeric ID when it has no name)., type: str}
    gr_name: {description: Group name (the numeric ID when it has no name)., type: str}
    size: {description: Size in bytes., type: int}
  sample:
    - path: /opt/idm/openidm/conf/cluster.json
      checksum: 3f2a...
      mode: "0640"
      pw_name: idm
      gr_name: idm
      size: 312
missing_dirs:
  description: Folders of O(paths) that do not exist, sorted.
  returned: always
  type: list
  elements: str
  sample: [/opt/idm/openidm/conf]
contents:
  description: Content (UTF-8 text) of each file of O(read) that exists, by path.
  returned: always
  type: dict
  sample: {/opt/idm/openidm/.idm_automation_cluster.files.json: '{"files": {}}'}
"""

import fnmatch
import grp
import hashlib
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule


def _name(lookup, ident: int) -> str:
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def describe(path: str) -> dict | None:
    """find-compatible facts of one regular file, or None when it is not one."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return {
        "path": path,
        "checksum": digest.hexdigest(),
        "mode": f"{stat.S_IMODE(info.st_mode):04o}",
        "pw_name": _name(pwd.getpwuid, info.st_uid),
        "gr_name": _name(grp.getgrgid, info.st_gid),
        "size": info.st_size,
    }


def read(paths: list[str]) -> tuple[list[dict], list[str]]:
    """The files matching ``paths`` and the folders of ``paths`` that do not exist."""
    by_dir: dict[str, set[str]] = {}
    for path in paths:
        folder, pattern = os.path.split(os.path.normpath(path))
        by_dir.setdefault(folder, set()).add(pattern)
    files: dict[str, dict] = {}
    missing: list[str] = []
    for folder, patterns in by_dir.items():
        try:
            names = os.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            missing.append(folder)
            continue
        for name in names:
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
                found = describe(os.path.join(folder, name))
                if found:
                    files[found["path"]] = found
    return [files[p] for p in sorted(files)], sorted(missing)


def read_texts(paths: list[str]) -> dict[str, str]:
    """Content of each of ``paths`` that is a regular file."""
    texts = {}
    for path in paths:
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                texts[path] = handle.read()
    return texts


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "paths": {"type": "list", "elements": "path", "required": True},
            "read": {"type": "list", "elements": "path", "default": []},
        },
        supports_check_mode=True,
    )
    relative = [p for p in module.params["paths"] + module.params["read"] if not os.path.isabs(p)]
    if relative:
        module.fail_json(msg=f"paths must be absolute: {', '.join(relative)}")
    try:
        files, missing = read(module.params["paths"])
        contents = read_texts(module.params["read"])
    except OSError as error:
        module.fail_json(msg=f"cannot read {error.filename}: {error.strerror}")
    except UnicodeDecodeError as error:
        module.fail_json(msg=f"not UTF-8 text: {error}")
    module.exit_json(changed=False, files=files, missing_dirs=missing, contents=contents)


if __name__ == "__main__":
    main()
