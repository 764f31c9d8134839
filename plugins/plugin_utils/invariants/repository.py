# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Repository rules: one repository and datasource file, and nothing foreign on it.

Rules ``one-repository`` (2) and ``no-foreign-instance`` (3); see ``registry``. The first fills
``ctx.repos``, which the second reads, so it runs first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache

from ansible_collections.idm_automation.cluster.plugins.module_utils import repository_identity
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.common import (
    checksum,
    name_list,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.context import (
    FIX_BUG,
    WARNING,
    Context,
    RepoKey,
    bad_field,
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
FIX_LOOPBACK = (
    "set idm_repo_host to the name or address under which every node reaches the PostgreSQL "
    "server over the network (not localhost, 127.0.0.0/8 or ::1, nor a host whose ansible_host is "
    "one), once for the whole cluster group"
)
FIX_ADMIN_USER = (
    "give IDM a database role of its own: set idm_repo_user to a role other than "
    "idm_repo_admin_user (for example openidm); the admin login only creates that role"
)
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
FIX_REPO_CHANGE = (
    "if the inventory's repository settings are wrong, put back the repository the cluster runs "
    "on; to move the cluster to another database on purpose (its data copied there first), set "
    "idm_repo_change_allowed: true for that one run"
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


@lru_cache(maxsize=1024)  # every node names the same host or two: parse each name once
def is_loopback(name: str) -> bool:
    """True for localhost (and *.localhost) or an address of 127.0.0.0/8 or ::1 (also mapped)."""
    key = name.strip().rstrip(".").casefold()
    if key in _LOOPBACK_NAMES or key.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(key.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


# --- one-repository -----------------------------------------------------------------------------


def check_one_repository(ctx: Context) -> None:
    """One repository connection and one rendered datasource file; live drift is a warning."""
    connections: dict[str, tuple[str, int, str, str]] = {}
    sums: dict[str, str] = {}
    loopback: dict[str, str] = {}
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
        _admin_user(ctx, host, repo, valid.get("user"))
        if "host" in valid:
            _loopback(ctx, host, str(valid["host"]), repo.get("address"), loopback)
    _spread_over_machines(ctx, loopback)
    what = "the repository connection"
    disagreement(ctx, "one-repository", what, connections, _show_repo, FIX_REPO)
    what = "the rendered conf/datasource.jdbc-default.json"
    disagreement(ctx, "one-repository", what, sums, _show_sum, FIX_REPO)
    _datasource_drift(ctx, sums)
    _repository_change(ctx)


def _repository_change(ctx: Context) -> None:
    """A deployed node whose recorded repository is not the configured one (by resolution)."""
    refused: dict[str, list[str]] = {}
    allowed: dict[str, list[str]] = {}
    for host, node in ctx.nodes.items():
        repo = node.get("repository")
        if not is_mapping(repo):
            continue
        deployed = ctx.fact(host, "repository", "one-repository", _is_connection, "a connection")
        if deployed is None:
            continue  # never deployed (or by a version that kept no record)
        configured = dict(repo)
        resolved = ctx.fact(host, "repository_addresses", "one-repository", is_list, "a list")
        if resolved is not None:
            configured["addresses"] = resolved
        if repository_identity.parse(configured) is None:
            continue  # reported by the field checks
        if repository_identity.same_repository(deployed, configured):
            continue
        change_allowed = repo.get("change_allowed")
        if change_allowed is not None and not isinstance(change_allowed, bool):
            bad_field(ctx, "one-repository", host, "repository.change_allowed", change_allowed,
                      "a boolean")  # fmt: skip
            change_allowed = False
        text = f"{repository_identity.show(deployed)} to {repository_identity.show(configured)}"
        (allowed if change_allowed else refused).setdefault(text, []).append(host)
    for text, hosts in sorted(refused.items()):
        message = (
            f"the repository of the deployed node(s) {name_list(hosts)} would change from {text}: "
            "the run would stop every node and start them on that database (an empty one gets "
            "the DDL), leaving the cluster's data behind; refused, nothing was changed"
        )
        ctx.add("one-repository", hosts, message, FIX_REPO_CHANGE)
    for text, hosts in sorted(allowed.items()):
        message = (
            f"the repository of {name_list(hosts)} changes from {text} (idm_repo_change_allowed "
            "is true): the run stops these nodes and starts them on the new database"
        )
        fix = "set idm_repo_change_allowed back to false after this run"
        ctx.add("one-repository", hosts, message, fix, WARNING)


def _is_connection(value: object) -> bool:
    return repository_identity.parse(value) is not None


def _admin_user(ctx: Context, host: str, repo: Mapping[str, object], user: object) -> None:
    admin = repo.get("admin_user")
    if admin is None or admin == "":
        return  # no admin login: the role creates nothing
    if not is_text(admin):
        bad_field(ctx, "one-repository", host, "repository.admin_user", admin, "a string or null")
    elif is_text(user) and str(user).strip().casefold() == str(admin).strip().casefold():
        message = (
            f"idm_repo_user {show(user)} is the repository admin user (idm_repo_admin_user): the "
            "repository role would reset the admin role's password and give it the IDM database"
        )
        ctx.problem("one-repository", host, message, FIX_ADMIN_USER)


def _loopback(ctx: Context, host: str, name: str, address: object, found: dict[str, str]) -> None:
    if address is not None and not is_text(address):
        bad_field(ctx, "one-repository", host, "repository.address", address, "a string or null")
    elif is_loopback(name):
        found[host] = f"repository host {show(name)} is a loopback address"
    elif is_text(address) and is_loopback(str(address)):
        found[host] = (
            f"repository host {show(name)} is a loopback address (the inventory gives it "
            f"ansible_host {show(address)})"
        )


def _spread_over_machines(ctx: Context, loopback: Mapping[str, str]) -> None:
    """A loopback repository is one database per machine: fine only when all nodes share one."""
    if not loopback:
        return
    machines = {
        str(ctx.nodes[host].get("machine")).strip().casefold()
        for host in ctx.clustered
        if is_text(ctx.nodes[host].get("machine"))
    }
    if len(machines) < 2:
        return
    for host, text in loopback.items():
        message = (
            f"{text}, but the cluster's nodes run on {len(machines)} machines: every node would "
            "use a database of its own on its own machine, not one shared repository"
        )
        ctx.problem("one-repository", host, message, FIX_LOOPBACK)


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
