# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Identity rules: every node has its own valid node ID, and the JVM options do not contradict it.

Rules ``node-id`` (1) and ``jvm-options`` (10); see ``registry``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.common import (
    NODE_ID_REGEX,
    is_valid_node_id,
    name_list,
    normalise_node_id,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.context import (
    WARNING,
    Context,
    bad_field,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.values import (
    is_list,
    is_mapping,
    is_names,
    is_text,
    show,
)

FIX_NODE_ID = (
    "give every node its own node ID (idm_node_id), distinct even when case, full-width "
    "forms and surrounding spaces are ignored"
)
FIX_JVM_OPTIONS = (
    "give the JVM options -Xmx and -Xms (for example -Xmx2048m -Xms2048m) and "
    "-Dopenidm.node.id=<node ID>, or take the node ID from boot.properties"
)
NODE_ID_SOURCES = ("boot_properties", "opts")
NODE_ID_OPTION = "-Dopenidm.node.id="
_HEAP_OPTION = re.compile(r"-Xm([sx])[0-9]+[kKmMgGtT]?")


# --- node-id ------------------------------------------------------------------------------------


def _fix_node_id(host: str) -> str:
    return (
        f"set idm_node_id for {host} to a value matching {NODE_ID_REGEX} (or remove it so that "
        "it is derived from the inventory name)"
    )


def check_node_id(ctx: Context) -> None:
    """Valid, unique (after normalisation) node IDs; a live node under another ID is a warning."""
    ids: dict[str, str] = {}
    for host, node in ctx.nodes.items():
        value = node.get("node_id")
        if is_valid_node_id(value):
            ids[host] = value  # type: ignore[assignment]
        elif value is None or (isinstance(value, str) and not value.strip()):
            message = f"{host} has no node ID (IDM does not start without one)"
            ctx.add("node-id", [host], message, _fix_node_id(host))
        elif not isinstance(value, str):
            message = f"{host}: node_id must be a string (got {show(value)})"
            ctx.add("node-id", [host], message, _fix_node_id(host) + "; quote numbers in YAML")
        else:
            message = f"{host}: node ID {show(value)} does not match {NODE_ID_REGEX}"
            ctx.add("node-id", [host], message, _fix_node_id(host))
            ids[host] = value
    _node_id_clashes(ctx, ids)
    _outside_clashes(ctx, ids)
    _node_id_drift(ctx, ids)
    _down_id_reuse(ctx, ids)


def _node_id_clashes(ctx: Context, ids: Mapping[str, str]) -> None:
    by_key: dict[str, list[str]] = {}
    for host, value in ids.items():
        by_key.setdefault(normalise_node_id(value), []).append(host)
    for hosts in by_key.values():
        if len(hosts) < 2:
            continue
        variants: dict[str, list[str]] = {}
        for host in hosts:
            variants.setdefault(ids[host], []).append(host)
        if len(variants) == 1:
            message = f"node ID {show(ids[hosts[0]])} is used by {len(hosts)} nodes: "
            message += name_list(hosts)
        else:
            text = " vs ".join(f"{show(v)} ({name_list(h)})" for v, h in sorted(variants.items()))
            message = f"node IDs differ only in case, width or surrounding spaces: {text}"
        ctx.add("node-id", hosts, message, FIX_NODE_ID)


def _outside_clashes(ctx: Context, ids: Mapping[str, str]) -> None:
    """A node of the run must not take the ID of a node outside ``--limit`` (which still runs)."""
    outside = {
        normalise_node_id(value): (host, value)
        for host, value in ctx.outside.items()
        if isinstance(value, str) and value.strip()
    }
    for host, value in ids.items():
        other = outside.get(normalise_node_id(value))
        if other is None:
            continue
        message = (
            f"{host} takes node ID {show(value)}, which {other[0]} (a node of the cluster outside "
            f"--limit) already uses as {show(other[1])}"
        )
        fix = f"give {host} its own node ID (idm_node_id); the rule covers the whole cluster group"
        ctx.add("node-id", [host, other[0]], message, fix)


def _node_id_drift(ctx: Context, ids: Mapping[str, str]) -> None:
    for host, value in ids.items():
        live = ctx.fact(host, "node_id", "node-id", is_text, "a non-empty string")
        if live is not None and live != value:
            message = (
                f"{host} currently runs as node {show(live)}; the run changes its node ID to "
                f"{show(value)} (the old ID stays in the repository's cluster table as down)"
            )
            fix = f"nothing if the new ID is intended; otherwise set idm_node_id for {host}"
            ctx.add("node-id", [host], message, fix, WARNING)


_NOT_RUNNING = ("down", "processing-down")


def _table_states(rows: object) -> dict[str, str]:
    """Node ID -> state of the repository's cluster table rows (malformed rows: rule 3)."""
    if not is_list(rows):
        return {}
    return {
        str(row["id"]): str(row.get("state")).casefold()
        for row in rows  # type: ignore[union-attr]
        if is_mapping(row) and is_text(row.get("id"))
    }


def _down_id_reuse(ctx: Context, ids: Mapping[str, str]) -> None:
    """A node that takes the ID of another, down instance of the cluster table takes over its
    record. Renaming a running node into it is refused; a new host taking it is a warning (the
    replacement of a dead node does just that). The table has no host names, so a host that held
    the ID before cannot be told apart from another one by the table alone."""
    states = _table_states(ctx.raw.get("repository_instances"))
    if not states:
        return
    for host, value in ids.items():
        state = states.get(value)
        if state not in _NOT_RUNNING:
            continue
        live = ctx.facts.get(host, {}).get("node_id")
        if isinstance(live, str) and live and live != value:
            message = (
                f"{host} runs as node {show(live)} and would be renamed to {show(value)}, which "
                f"the repository's cluster table holds as another, {state} instance: the node "
                "would take over that instance's cluster record (IDM does not refuse a reused ID)"
            )
            fix = (
                f"keep the node ID of {host} ({show(live)}) or give it one the cluster table does "
                "not hold; reuse a down node's ID only on the host that replaces that node"
            )
            ctx.add("node-id", [host], message, fix)
        elif host not in ctx.facts:
            message = (
                f"{host} is not deployed yet and takes node ID {show(value)}, which the "
                f"repository's cluster table holds as a {state} instance: it takes over that "
                "instance's cluster record"
            )
            fix = f"nothing if {host} replaces that node; otherwise give it a new node ID"
            ctx.add("node-id", [host], message, fix, WARNING)


# --- jvm-options --------------------------------------------------------------------------------


def check_jvm_options(ctx: Context) -> None:
    """The node ID's source is known; OPENIDM_OPTS keep the heap and do not override the ID."""
    for host, node in ctx.nodes.items():
        source, options = node.get("node_id_source"), node.get("jvm_options")
        if source not in NODE_ID_SOURCES:
            expected = "one of " + ", ".join(NODE_ID_SOURCES)
            bad_field(ctx, "jvm-options", host, "node_id_source", source, expected)
        if not is_names(options):
            bad_field(ctx, "jvm-options", host, "jvm_options", options, "a list of strings")
            continue
        _check_options(ctx, host, node.get("node_id"), source, list(options))  # type: ignore[arg-type]


def _check_options(
    ctx: Context, host: str, node_id: object, source: object, options: list[str]
) -> None:
    given = [
        option[len(NODE_ID_OPTION) :] for option in options if option.startswith(NODE_ID_OPTION)
    ]
    for value in sorted(set(given)):
        if isinstance(node_id, str) and node_id and value != node_id:
            message = (
                f"{host}: the JVM options set -Dopenidm.node.id={show(value)}, which overrides "
                f"its node ID {show(node_id)}"
            )
            fix = "remove -Dopenidm.node.id from the JVM options, or make it the node ID"
            ctx.add("jvm-options", [host], message, fix)
    if source != "opts":
        return
    heap = {match.group(1) for match in map(_HEAP_OPTION.fullmatch, options) if match}
    missing = [f"-Xm{kind}<size>" for kind in ("x", "s") if kind not in heap]
    if not given:
        missing.append("-Dopenidm.node.id=<node ID>")
    if missing:
        message = (
            f"the node ID is passed in OPENIDM_OPTS but the JVM options lack {', '.join(missing)} "
            "(setting OPENIDM_OPTS replaces the default heap options)"
        )
        ctx.problem("jvm-options", host, message, FIX_JVM_OPTIONS)
