"""Filter that turns what status.yml gathered into a verdict, rows and a readable table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.idm_automation.cluster.plugins.module_utils.cluster_state import (
    RUNNING,
    effective_state,
)

DOCUMENTATION = r"""
name: cluster_status
short_description: Summarise the state of a PingIDM cluster as rows, problems and a table
version_added: 0.1.0
description:
  - Takes what C(playbooks/status.yml) gathered from the nodes, the cluster endpoint, the
    repository and the load balancers, and returns one row per node, the list of problems, a
    verdict and a fixed-width text table.
  - A node is healthy when its service is active, it answers ready, the cluster endpoint lists it
    as effectively C(running), and every load balancer that knows it reports it C(UP).
  - The cluster state is the effective one of P(idm_automation.cluster.instance_state#filter). A
    node in recovery is C(processing-down) whether IDM shows that in the top-level C(state) or, as
    older versions do, in a C(recovery) object under C(state) C(running) (contract row C9). The
    same holds for the rule that an instance running in the cluster must be in the inventory.
  - An instance of the cluster table that is not in the inventory and is not effectively
    C(running) (a renamed or removed node, C(down) or C(processing-down)) is a warning, not a
    problem - IDM keeps the rows of instances that left (row C9). It gets a row of its own in the
    table (host C((not in inventory))) and a C(warning:) sentence with the fix in C(problems); the
    cluster stays C(healthy) (healthy with warnings, see C(verdict)). A foreign instance that is
    effectively C(running) stays a problem and makes the cluster unhealthy.
options:
  _input:
    description:
      - C(nodes) maps each inventory host to C(node_id), C(service) (systemd ActiveState),
        C(ready) (bool or null when unknown) and C(version) (or null).
      - C(cluster) is the C(result) list of C(/openidm/cluster?_queryFilter=true), or null when no
        node answered.
      - C(checkins) maps node IDs to the age of their last check-in in seconds (from the
        repository), possibly empty.
      - C(loadbalancers) maps each load balancer host to a mapping of server name to HAProxy status
        (C(UP), C(DOWN), C(MAINT), C(DRAIN), ...), possibly empty.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Print the cluster status
  ansible.builtin.debug:
    msg: "{{ (gathered | idm_automation.cluster.cluster_status).table | join('\n') }}"
"""

RETURN = r"""
_value:
  description: The summary.
  type: dict
  contains:
    healthy:
      description:
        - True when every node is healthy and no unknown instance is running. Warnings do not
          make the cluster unhealthy.
      type: bool
    state:
      description:
        - C(healthy) (no problem; warnings allowed), C(degraded) (a problem, but at least one node
          is ready, so the cluster still serves) or C(down) (no node of the inventory is ready).
          Alerting can page on C(down) and ticket on C(degraded).
      type: str
      choices: [healthy, degraded, down]
    verdict:
      description:
        - C(cluster healthy), C(cluster healthy, with N warning(s)) or C(cluster unhealthy, N
          problem(s)).
      type: str
    warnings:
      description: The warning sentences (also at the end of C(problems), prefixed C(warning:)).
      type: list
      elements: str
    instances_not_in_inventory:
      description:
        - One row (same keys as C(rows), C(host) null) per instance of the cluster table that is
          not in the inventory and not running.
      type: list
      elements: dict
    rows:
      description:
        - One mapping per node (C(host), C(node_id), C(service), C(ready), C(cluster_state),
          C(checkin_age), C(version), C(lb)).
      type: list
      elements: dict
    problems:
      description:
        - One sentence per problem, naming the node, then one per warning (prefixed C(warning:)),
          so that a report that prints the problems never says only "cluster healthy" while a
          warning stands.
      type: list
      elements: str
    table:
      description: The rows as aligned text lines, header first.
      type: list
      elements: str
"""

COLUMNS = (
    ("host", "NODE"),
    ("node_id", "NODE ID"),
    ("service", "SERVICE"),
    ("ready", "READY"),
    ("cluster_state", "CLUSTER"),
    ("checkin_age", "CHECK-IN"),
    ("version", "VERSION"),
    ("lb", "LOAD BALANCER"),
)


def _lb_states(node: str, loadbalancers: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    return {lb: str(srv[node]) for lb, srv in sorted(loadbalancers.items()) if node in srv}


def _row(host: str, node: Mapping[str, Any], gathered: Mapping[str, Any]) -> dict[str, Any]:
    node_id = str(node.get("node_id") or "")
    cluster = {str(i.get("instanceId")): i for i in gathered.get("cluster") or []}
    age = (gathered.get("checkins") or {}).get(node_id)
    return {
        "host": host,
        "node_id": node_id,
        "service": str(node.get("service") or "unknown"),
        "ready": node.get("ready"),
        "cluster_state": effective_state(cluster[node_id]) if node_id in cluster else "absent",
        "checkin_age": None if age is None else round(float(age), 1),
        "version": node.get("version"),
        "lb": _lb_states(host, gathered.get("loadbalancers") or {}),
    }


def _problems(row: Mapping[str, Any], cluster_known: bool) -> list[str]:
    name = f"{row['host']} ({row['node_id']})"
    found = []
    if row["service"] != "active":
        found.append(f"{name}: service is {row['service']}")
    if row["ready"] is not True:
        found.append(f"{name}: not ready")
    if cluster_known and row["cluster_state"] != RUNNING:
        found.append(f"{name}: cluster state is {row['cluster_state']}")
    found += [f"{name}: {st} in load balancer {lb}" for lb, st in row["lb"].items() if st != "UP"]
    return found


FIX_NOT_IN_INVENTORY = (
    "if the node was retired with playbooks/remove_node.yml, nothing (IDM keeps the row, down); if "
    "its host was renamed or dropped from the inventory without that playbook, put the host back "
    "(or give the renamed host its old idm_node_id) and retire it with playbooks/remove_node.yml"
)


def _stale_row(instance: Mapping[str, Any], state: str, gathered: Mapping[str, Any]) -> dict:
    node_id = str(instance.get("instanceId"))
    age = (gathered.get("checkins") or {}).get(node_id)
    return {
        "host": None,
        "node_id": node_id,
        "service": None,
        "ready": None,
        "cluster_state": state,
        "checkin_age": None if age is None else round(float(age), 1),
        "version": None,
        "lb": {},
    }


def _cell(key: str, value: Any) -> str:
    if key == "ready":
        return {True: "yes", False: "no"}.get(value, "?")
    if key == "checkin_age":
        return "-" if value is None else f"{value:.1f}s ago"
    if key == "lb":
        return " ".join(f"{lb}:{state}" for lb, state in value.items()) or "-"
    if key == "host" and value is None:
        return "(not in inventory)"
    return "-" if value in (None, "") else str(value)


def _table(rows: list[dict[str, Any]]) -> list[str]:
    header = [title for _key, title in COLUMNS]
    cells = [header] + [[_cell(k, r[k]) for k, _title in COLUMNS] for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    ]


def cluster_status(gathered: Mapping[str, Any]) -> dict[str, Any]:
    """Rows, problems, verdict and table for the gathered cluster state."""
    nodes = gathered.get("nodes") or {}
    rows = [_row(host, nodes[host] or {}, gathered) for host in nodes]
    cluster_known = gathered.get("cluster") is not None
    problems = [p for row in rows for p in _problems(row, cluster_known)]
    if not cluster_known:
        problems.append("no node answered the cluster endpoint")
    known_ids = {row["node_id"] for row in rows}
    stale: list[dict[str, Any]] = []
    warnings: list[str] = []
    for instance in gathered.get("cluster") or []:
        if str(instance.get("instanceId")) in known_ids:
            continue
        state = effective_state(instance)
        if state == RUNNING:
            problems.append(
                f"instance {instance.get('instanceId')} is running in the cluster but is not in "
                "the inventory"
            )
        else:
            stale.append(_stale_row(instance, state, gathered))
            warnings.append(
                f"instance {instance.get('instanceId')} is {state} in the cluster table but is not "
                f"in the inventory (a renamed or removed node). Fix: {FIX_NOT_IN_INVENTORY}"
            )
    healthy = not problems
    if healthy:
        state = "healthy"
    elif any(row["ready"] is True for row in rows):
        state = "degraded"
    else:
        state = "down"
    if not healthy:
        verdict = f"cluster unhealthy, {len(problems)} problem(s)"
    elif warnings:
        verdict = f"cluster healthy, with {len(warnings)} warning(s)"
    else:
        verdict = "cluster healthy"
    return {
        "healthy": healthy,
        "state": state,
        "verdict": verdict,
        "rows": rows,
        "instances_not_in_inventory": stale,
        "problems": problems + [f"warning: {text}" for text in warnings],
        "warnings": warnings,
        "table": _table(rows + stale),
    }


class FilterModule:
    """Ansible filter plugin entry point."""

    def filters(self) -> dict[str, Any]:
        return {"cluster_status": cluster_status}
