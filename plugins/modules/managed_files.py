#!/usr/bin/python
# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the managed_files action plugin (plugins/action/managed_files.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: managed_files
short_description: Write files where they differ, prune stale ones, record what was written
version_added: 0.1.0
description:
  - Reads the node once, with M(idm_automation.cluster.file_checksums) (the sha256, mode and owner
    of every file in O(files) and of the files matching a O(prune) rule, and the node's
    O(manifest)), then
    writes only the files that are missing or differ (through M(ansible.builtin.copy), so check
    mode and diff work as there), removes stale files and updates the manifest. On a converged
    node this is one module call, however many files are managed.
  - The manifest (JSON, root only, mode 0600) is the node's one record of what the collection
    wrote (under C(files), each written path with the sha256 of its rendered content), shared by
    every caller; each call updates the entries of its own files and keeps the others.
  - A file with C(product_rewrites) is one the product rewrites itself (PingIDM encrypts the
    datasource password at start and writes the file back, contract row C5), so it is judged by the
    sha256 the manifest recorded for it, never by its live bytes.
  - A file is removed when it is not in O(files), matches a O(prune) rule and the manifest lists
    it (files the product wrote itself, such as a schedule made over REST, are kept; row C6) -
    or, for a rule with C(recorded_only=false), whenever it matches (a file the release ships).
  - Reports C(changed) when anything was written or removed, or the manifest was recorded anew;
    a handler notified by the task then runs (the restart of the node, for IDM's files).
  - This is an action plugin; the decision is made on the controller, with no per-file round trip.
options:
  files:
    description: The files the node must have.
    type: list
    elements: dict
    required: true
    suboptions:
      path: {description: Absolute path., type: path, required: true}
      content: {description: The full content., type: str, required: true}
      mode: {description: Permission bits (C('0640'))., type: str, required: true}
      owner: {description: Owner (default O(owner))., type: str}
      group: {description: Group (default O(group))., type: str}
      secret:
        description: The file holds secrets - its content never appears in a diff.
        type: bool
        default: false
      product_rewrites:
        description: The product rewrites this file; judge it by the manifest, not its bytes.
        type: bool
        default: false
  owner:
    description: Owner of the files that do not name one.
    type: str
    required: true
  group:
    description: Group of the files that do not name one.
    type: str
    required: true
  manifest:
    description: Path of the node's manifest of the files the collection wrote.
    type: path
    required: true
  prune:
    description: Rules of files to remove when they are no longer in O(files).
    type: list
    elements: dict
    default: []
    suboptions:
      dir: {description: The folder., type: path, required: true}
      pattern:
        description: Shell wildcard of file names (C(schedule-*.json)).
        type: str
        required: true
      recorded_only:
        description: Remove only files the manifest lists (files the product wrote are kept).
        type: bool
        default: true
  forget:
    description:
      - Paths whose manifest entry is dropped, so that the next call writes them again (the
        datasource after its keystore was replaced and no datasource was rendered).
    type: list
    elements: path
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Files with C(secret) show no diff.
  platform:
    platforms: posix
author:
  - idm_automation maintainers (@idm-automation)
"""

EXAMPLES = r"""
- name: Write cluster.json and the listeners, remove listeners written earlier and no longer wanted
  idm_automation.cluster.managed_files:
    files:
      - path: /opt/idm/openidm/conf/cluster.json
        content: "{{ lookup('ansible.builtin.template', 'cluster.json.j2') }}"
        mode: "0640"
      - path: /opt/idm/openidm/conf/webserver.listener-https.json
        content: "{{ listener | to_nice_json }}"
        mode: "0640"
    owner: idm
    group: idm
    manifest: /opt/idm/openidm/.idm_automation_cluster.files.json
    prune:
      - {dir: /opt/idm/openidm/conf, pattern: webserver.listener-*.json}
  notify: restart idm
"""

RETURN = r"""
written:
  description: Paths written (missing or different), in the order of O(files).
  returned: always
  type: list
  elements: str
  sample: [/opt/idm/openidm/conf/cluster.json]
pruned:
  description: Paths removed.
  returned: always
  type: list
  elements: str
  sample: [/opt/idm/openidm/conf/webserver.listener-old.json]
manifest_written:
  description: Whether the manifest was recorded anew.
  returned: always
  type: bool
"""
