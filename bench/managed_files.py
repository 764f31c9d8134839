#!/usr/bin/env python3
"""What writing a node's files costs: one managed_files task against one copy task per file.

The idm role writes about ten files per node (boot.properties, cluster.json, scheduler.json, the
schedules, the listeners, the datasource, the unit). Two ways are measured side by side on the
same fresh containers (from the test image, over SSH with sudo, as bench/run.py does):

  copy    - the anchors' way: one ansible.builtin.copy per file (a loop), notify on change;
  action  - idm_automation.cluster.managed_files: one task for all files, one module call to read
            the node, copies only for the files that differ.

For each, with N nodes and F files per node: the cold run (every file written), the converged run
(nothing to write: what every later site.yml pays) and the controller's CPU seconds of each.
Prints JSON and writes bench/results/managed_files.json. Nothing here is asserted.

  bench/managed_files.py [--nodes 3,6] [--files 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import REPO, Bench, Cluster, changed, log

ROOT = "/opt/bench-files"


def files(count: int) -> list[dict]:
    """``count`` files like a node's: JSON of a few hundred bytes, one 0600 secret among them."""
    made = []
    for index in range(count):
        settings = {str(k): k for k in range(20)}
        body = {"name": f"file-{index}", "enabled": True, "settings": settings}
        made.append({
            "path": f"{ROOT}/conf/file-{index}.json",
            "content": json.dumps(body, indent=2) + "\n",
            "mode": "0600" if index == 0 else "0640",
            "secret": index == 0,
        })  # fmt: skip
    return made


def playbook(way: str, wanted: list[dict]) -> str:
    head = f"""- hosts: idm_nodes
  gather_facts: false
  become: true
  vars:
    wanted: {json.dumps(wanted)}
  tasks:
    - name: The folder
      ansible.builtin.file: {{path: "{ROOT}/conf", state: directory, mode: "0755"}}
"""
    if way == "copy":
        task = """    - name: One copy per file
      ansible.builtin.copy:
        content: "{{ item.content }}"
        dest: "{{ item.path }}"
        mode: "{{ item.mode }}"
        owner: root
        group: root
      loop: "{{ wanted }}"
      loop_control: {label: "{{ item.path }}"}
      no_log: "{{ item.secret }}"
      notify: restart
"""
    else:
        task = f"""    - name: One managed_files task
      idm_automation.cluster.managed_files:
        files: "{{{{ wanted }}}}"
        owner: root
        group: root
        manifest: {ROOT}/manifest.json
        prune: [{{dir: "{ROOT}/conf", pattern: "file-*.json"}}]
      notify: restart
"""
    return (
        head
        + task
        + """  handlers:
    - name: restart
      ansible.builtin.debug: {msg: would restart}
"""
    )


def measure(cluster: Cluster, way: str, count: int, workdir: Path) -> dict:
    path = workdir / f"{way}-{count}.yml"
    path.write_text(playbook(way, files(count)))
    cold = cluster.playbook(path)
    warm = cluster.playbook(path)
    if changed(warm) != 0:
        raise RuntimeError(f"{way}: the converged run changed {changed(warm)} things")
    return {
        "cold_s": cold["seconds"],
        "converged_s": warm["seconds"],
        "cold_cpu_s": cold["cpu"]["controller_cpu_s"],
        "converged_cpu_s": warm["cpu"]["controller_cpu_s"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="3,6", help="comma-separated node counts")
    parser.add_argument("--files", type=int, default=10, help="files per node")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".cache/collections"))
    bench = Bench(argparse.Namespace(quick=True, repeat=1))
    workdir = Path(tempfile.mkdtemp(prefix="idm-bench-files-", dir=bench.tmp))
    results: dict = {"files_per_node": args.files, "repeat": args.repeat, "nodes": {}}
    started = time.monotonic()
    for nodes in [int(n) for n in args.nodes.split(",")]:
        bench.octet += 1
        cluster = Cluster(nodes, bench.octet, bench.tmp, bench.key, services=False)
        log(f"{nodes} node containers")
        cluster.create()
        try:
            runs: dict[str, list[dict]] = {"copy": [], "action": []}
            for repetition in range(args.repeat):
                for way in ("copy", "action"):  # alternate, so that drift hits both alike
                    cluster.playbook(_cleanup(workdir))
                    runs[way].append(measure(cluster, way, args.files, workdir))
                    log(f"  {way} #{repetition + 1}: {runs[way][-1]}")
            results["nodes"][str(nodes)] = {
                way: {k: round(statistics.median(r[k] for r in rs), 2) for k in rs[0]}
                for way, rs in runs.items()
            }
            medians = results["nodes"][str(nodes)]
            medians["converged_ratio_action_to_copy"] = round(
                medians["action"]["converged_s"] / medians["copy"]["converged_s"], 3
            )
            medians["converged_cpu_ratio_action_to_copy"] = round(
                medians["action"]["converged_cpu_s"] / medians["copy"]["converged_cpu_s"], 3
            )
        finally:
            cluster.destroy()
    results["total_seconds"] = round(time.monotonic() - started, 1)
    text = json.dumps(results, indent=2)
    out = REPO / "bench/results/managed_files.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    print(text)
    return 0


def _cleanup(workdir: Path) -> Path:
    path = workdir / "cleanup.yml"
    path.write_text(
        "- hosts: idm_nodes\n  gather_facts: false\n  become: true\n  tasks:\n"
        f"    - ansible.builtin.file: {{path: {ROOT}, state: absent}}\n"
    )
    return path


if __name__ == "__main__":
    sys.exit(main())
