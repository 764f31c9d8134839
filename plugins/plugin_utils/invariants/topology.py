# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Topology rules: who is in the cluster, who starts first, and where load balancers send traffic.

Rules ``loadbalancer-backends`` (9) and ``bootstrap-node`` (11); see ``registry``.
"""

from __future__ import annotations

from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.common import (
    name_list,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.context import (
    FIX_BUG,
    Context,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.values import (
    is_mapping,
    is_names,
    show,
)

# --- loadbalancer-backends ----------------------------------------------------------------------

FIX_LB = "make the load balancer's backends the clustered nodes (the cluster group), no others"
FIX_LB_TWICE = "list every node once in the load balancer's backends (idm_lb_backends)"


def check_loadbalancer_backends(ctx: Context) -> None:
    """Every load balancer sends traffic to exactly the clustered nodes."""
    balancers = ctx.raw.get("loadbalancers")
    if balancers is None:
        return
    if not is_mapping(balancers):
        message = f"loadbalancers must be a dictionary (got {show(balancers)})"
        ctx.add("loadbalancer-backends", [], message, FIX_BUG)
        return
    clustered = set(ctx.clustered)
    outside = set(ctx.disabled) | set(ctx.others)
    for balancer, spec in balancers.items():
        backends = spec.get("backends") if is_mapping(spec) else None
        if not is_names(backends):
            message = f"{balancer}: backends must be a list of host names (got {show(backends)})"
            ctx.add("loadbalancer-backends", [balancer], message, FIX_LB)
            continue
        # Nodes outside --limit are not described: a backend naming one is neither judged nor new.
        named = set(backends) - set(ctx.outside)  # type: ignore[arg-type]
        _backend_sets(ctx, str(balancer), named, clustered, outside)
        _backends_twice(ctx, str(balancer), backends)  # type: ignore[arg-type]


def _backends_twice(ctx: Context, balancer: str, backends: list[str]) -> None:
    seen: set[str] = set()
    twice = {name for name in backends if name in seen or seen.add(name)}  # type: ignore[func-returns-value]
    if twice:
        message = (
            f"load balancer {balancer} lists {name_list(twice)} more than once as a backend "
            "(HAProxy refuses two servers of one name in a backend)"
        )
        ctx.add("loadbalancer-backends", [balancer, *twice], message, FIX_LB_TWICE)


def _backend_sets(
    ctx: Context, balancer: str, backends: set[str], clustered: set[str], outside: set[str]
) -> None:
    findings = (
        (clustered - backends, "does not send traffic to the clustered node(s) {}"),
        (backends & outside, "sends traffic to {}, outside the cluster"),
        (backends - clustered - outside, "names {}, which the cluster description does not know"),
    )
    for hosts, what in findings:
        if hosts:
            message = f"load balancer {balancer} " + what.format(name_list(hosts))
            ctx.add("loadbalancer-backends", [balancer, *hosts], message, FIX_LB)


# --- bootstrap-node -----------------------------------------------------------------------------

FIX_NO_NODES = "put at least one host in the cluster group; its first host is the bootstrap node"
FIX_BOOTSTRAP = "make the bootstrap node (the first host of the cluster group) a clustered node"


def check_bootstrap_node(ctx: Context) -> None:
    """The cluster has nodes, and the bootstrap node is one of them with clustering enabled."""
    if not ctx.nodes:
        ctx.add("bootstrap-node", [], "the cluster group has no nodes", FIX_NO_NODES)
        return
    node = ctx.raw.get("bootstrap_node")
    fix = FIX_BOOTSTRAP
    if node is None or node == "":
        ctx.add("bootstrap-node", [], "no bootstrap node is set", fix)
    elif not isinstance(node, str):
        message = f"bootstrap_node must be a host name (got {show(node)})"
        ctx.add("bootstrap-node", [], message, fix)
    elif node in ctx.outside:
        message = (
            f"the bootstrap node {node} is outside --limit; a limited run must include it (it "
            "starts first and runs the repository's DDL)"
        )
        ctx.add("bootstrap-node", [node], message, f"add {node} to --limit, or run without it")
    elif node not in ctx.nodes:
        message = f"the bootstrap node {node} is not a node of the cluster group"
        ctx.add("bootstrap-node", [node], message, fix)
    elif node in ctx.disabled:
        message = f"the bootstrap node {node} has clustering disabled"
        ctx.add("bootstrap-node", [node], message, fix)
