# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Repository rules: one repository and datasource file, and nothing foreign on it.

Rules ``one-repository`` (2) and ``no-foreign-instance`` (3); see ``registry``. The first fills
``ctx.repos``, which the second reads, so it runs first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.common import (
    checksum,
    name_list,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.context import (
    FIX_BUG,
    WARNING,
    Context,
    RepoKey,
    disagreement,
    section,
    valid_fields,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.values import (
    Check,
    is_list,
    is_mapping,
    is_optional_text,
    is_port,
    is_text,
    show,
)

_REPO_CONNECTION: tuple[Check, ...] = (
    ("host", is_text, "a non-empty string"),
    ("port", is_port, "an integer from 1 to 65535"),
    ("database", is_text, "a non-empty string"),
)
_REPO_CHECKS: tuple[Check, ...] = (
    *_REPO_CONNECTION,
    ("user", is_text, "a non-empty string"),
    ("datasource_sha256", is_optional_text, "the sha256 of the rendered file, or null"),
)
FIX_REPO = (
    "point every node at the same repository: set the repository host, port, database, user "
    "and datasource settings once for the whole cluster group, not per host"
)
FIX_FOREIGN = (
    "give {host} its own repository database, or make it a clustered node (in the cluster group, "
    "clustering enabled)"
)


def _repo_key(repo: Mapping[str, object]) -> RepoKey:
    """(host without case, port, database): what makes two instances share a repository."""
    return (str(repo["host"]).strip().casefold(), int(repo["port"]), str(repo["database"]))  # type: ignore[call-overload]


def _show_repo(key: tuple) -> str:
    text = f"{key[0]}:{key[1]}/{key[2]}"
    return f"{text} as user {show(key[3])}" if len(key) > 3 else text


def _show_sum(digest: str) -> str:
    return f"sha256 {digest[:12]}"


# --- one-repository -----------------------------------------------------------------------------


def check_one_repository(ctx: Context) -> None:
    """One repository connection and one rendered datasource file; live drift is a warning."""
    connections: dict[str, tuple[str, int, str, str]] = {}
    sums: dict[str, str] = {}
    for host, node in ctx.nodes.items():
        repo = section(ctx, "one-repository", host, node, "repository")
        if repo is None:
            continue
        valid = valid_fields(ctx, "one-repository", host, "repository", repo, _REPO_CHECKS)
        if "host" in valid and "port" in valid and "database" in valid:
            ctx.repos[host] = _repo_key(valid)
            if "user" in valid:
                connections[host] = (*ctx.repos[host], str(valid["user"]))
        digest = checksum(valid.get("datasource_sha256"))
        if digest is not None:  # null: not rendered (no password known yet), so not compared
            sums[host] = digest
    what = "the repository connection"
    disagreement(ctx, "one-repository", what, connections, _show_repo, FIX_REPO)
    what = "the rendered conf/datasource.jdbc-default.json"
    disagreement(ctx, "one-repository", what, sums, _show_sum, FIX_REPO)
    _datasource_drift(ctx, sums)


def _datasource_drift(ctx: Context, sums: Mapping[str, str]) -> None:
    drifted = []
    for host, digest in sums.items():
        live = ctx.fact(host, "datasource_sha256", "one-repository", is_text, "a sha256 string")
        if live is not None and checksum(live) != digest:
            drifted.append(host)
    if drifted:
        message = (
            f"the live conf/datasource.jdbc-default.json on {name_list(drifted)} differs from the "
            "rendered one; the run rewrites it"
        )
        fix = "nothing to do unless the live file was edited on purpose (then move that change "
        fix += "into the inventory, or it is lost)"
        ctx.add("one-repository", drifted, message, fix, WARNING)


# --- no-foreign-instance ------------------------------------------------------------------------


def check_no_foreign_instance(ctx: Context) -> None:
    """No disabled node, other instance or unknown running instance uses the repository."""
    cluster_repos = {ctx.repos[host] for host in ctx.clustered if host in ctx.repos}
    for host in ctx.disabled:
        if host in ctx.repos:
            _foreign_on_repo(ctx, host, "has clustering disabled", ctx.repos[host], cluster_repos)
    for host, inst in ctx.others.items():
        repo = section(ctx, "no-foreign-instance", host, inst, "repository")
        if repo is None:
            continue
        valid = valid_fields(ctx, "no-foreign-instance", host, "repository", repo, _REPO_CONNECTION)
        if len(valid) == len(_REPO_CONNECTION):
            key = _repo_key(valid)
            _foreign_on_repo(ctx, host, "is not in the cluster group", key, cluster_repos)
    _foreign_checkins(ctx)


def _foreign_on_repo(
    ctx: Context,
    host: str,
    why: str,
    key: RepoKey,
    cluster_repos: set[RepoKey],
) -> None:
    if key in cluster_repos:
        message = (
            f"{host} {why} but uses the cluster's repository {_show_repo(key)}; an instance "
            "outside the cluster must not share the repository with clustered nodes"
        )
        ctx.add("no-foreign-instance", [host], message, FIX_FOREIGN.format(host=host))


def _known_ids(ctx: Context, hosts: Iterable[str]) -> dict[str, list[str]]:
    """Node IDs (configured and live) of the given hosts, mapped to those hosts."""
    known: dict[str, list[str]] = {}
    for host in hosts:
        live = ctx.facts.get(host, {}).get("node_id")
        for value in (ctx.nodes[host].get("node_id"), live):
            if isinstance(value, str) and value:
                known.setdefault(value, []).append(host)
    return known


def _foreign_checkins(ctx: Context) -> None:
    rows = ctx.raw.get("repository_instances")
    if rows is None:
        return
    fix = FIX_BUG
    if not is_list(rows):
        message = f"repository_instances must be a list (got {show(rows)})"
        ctx.add("no-foreign-instance", [], message, fix)
        return
    members = _known_ids(ctx, ctx.clustered)
    outsiders = _known_ids(ctx, ctx.disabled)
    for row in rows:  # type: ignore[union-attr]
        if not is_mapping(row) or not is_text(row.get("id")):
            message = "an entry of repository_instances has no text id"
            ctx.add("no-foreign-instance", [], message, fix)
            continue
        instance, state = str(row["id"]), row.get("state")
        if isinstance(state, str) and state.casefold() == "running" and instance not in members:
            message = (
                f"instance {show(instance)} checks in to the cluster's repository as running "
                "but is not a node of the cluster"
            )
            fix_text = (
                f"stop the instance {show(instance)} or give it its own repository; if it "
                "should be a member, add its host to the cluster group"
            )
            ctx.add("no-foreign-instance", outsiders.get(instance, []), message, fix_text)
