# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The prepared cluster description every rule works on, and how rules report what is wrong.

``prepare`` validates the top of the description (a dictionary of ``nodes``, ``others`` and
``facts``) and splits the nodes into clustered and disabled ones. The helpers below read one
section of an instance and report missing or ill-typed fields under the rule that needs them, so
every check reads only the fields it has validated.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.common import (
    name_list,
    strict_majority,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.values import (
    MISSING,
    Check,
    is_mapping,
    show,
)

FIX_BUG = "report a bug in the preflight role (it builds this description)"
FIX_FACTS = "gather the facts again; if this persists, report a bug in the preflight role"
ERROR = "error"
WARNING = "warning"

K = TypeVar("K", bound=Hashable)
RepoKey = tuple[str, int, str]
Violation = dict[str, object]


class Listener(NamedTuple):
    """One well-typed listener of an instance."""

    name: str
    port: int
    secure: bool
    enabled: bool


@dataclass
class Context:
    """The description, its validated parts, what rules share, and the violations found."""

    raw: Mapping[str, object]
    numbers: Mapping[str, int]  # rule id -> rule number, from the registry
    nodes: dict[str, Mapping[str, object]] = field(default_factory=dict)
    others: dict[str, Mapping[str, object]] = field(default_factory=dict)
    facts: dict[str, Mapping[str, object]] = field(default_factory=dict)
    # Nodes of the cluster group that the run does not touch (outside --limit): host -> node ID.
    outside: dict[str, object] = field(default_factory=dict)
    clustered: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    listeners: dict[str, list[Listener]] = field(default_factory=dict)  # filled by ports
    repos: dict[str, RepoKey] = field(default_factory=dict)  # filled by one-repository
    machines: dict[str, str] = field(default_factory=dict)  # instance -> machine key, by ports
    machine_names: dict[str, str] = field(default_factory=dict)  # machine key -> display
    violations: list[Violation] = field(default_factory=list)
    problems: dict[tuple[str, str, str, str], list[str]] = field(default_factory=dict)

    def problem(self, rule: str, host: str, text: str, fix: str, severity: str = ERROR) -> None:
        """A per-host problem; hosts with the same problem end up in one violation."""
        self.problems.setdefault((rule, text, fix, severity), []).append(host)

    def flush_problems(self) -> None:
        """Turn the collected per-host problems into violations."""
        for (rule, text, fix, severity), hosts in self.problems.items():
            self.add(rule, hosts, f"{name_list(hosts)}: {text}", fix, severity)
        self.problems.clear()

    def add(
        self, rule: str, hosts: Iterable[object], message: str, fix: str, severity: str = ERROR
    ) -> None:
        """One violation of ``rule``."""
        self.violations.append(
            {
                "rule": rule,
                "number": self.numbers[rule],
                "severity": severity,
                "hosts": sorted({str(host) for host in hosts}),
                "message": message,
                "fix": fix,
            }
        )

    def fact(
        self, host: str, key: str, rule: str, ok: Callable[[object], bool], expected: str
    ) -> Any:
        """A gathered fact when present and well typed; an ill-typed one is reported."""
        entry = self.facts.get(host)
        value = None if entry is None else entry.get(key)
        if value is None or ok(value):
            return value
        self.add(
            rule,
            [host],
            f"{host}: gathered fact {key} must be {expected} (got {show(value)})",
            FIX_FACTS,
        )
        return None


# --- fields -------------------------------------------------------------------------------------


def _field_fix(paths: list[str], missing_only: bool) -> str:
    if missing_only:
        return FIX_BUG
    return f"correct the variable(s) behind {', '.join(paths)} for these hosts as the message says"


def bad_field(ctx: Context, rule: str, host: str, path: str, value: object, expected: str) -> None:
    """Report one missing (None) or ill-typed field."""
    problem = "is missing" if value is None else f"must be {expected} (got {show(value)})"
    ctx.problem(rule, host, f"{path} {problem}", _field_fix([path], value is None))


def section(
    ctx: Context, rule: str, host: str, inst: Mapping[str, object], name: str
) -> Mapping[str, object] | None:
    """The dictionary ``inst[name]``, or None (reported) when it is not one."""
    value = inst.get(name)
    if is_mapping(value):
        return value  # type: ignore[return-value]
    bad_field(ctx, rule, host, name, value, "a dictionary")
    return None


def valid_fields(
    ctx: Context,
    rule: str,
    host: str,
    path: str,
    fields: Mapping[str, object],
    checks: Sequence[Check],
) -> dict[str, object]:
    """The checked fields that are well typed; one violation lists all the others."""
    get = fields.get
    valid = {key: value for key, ok, _text in checks if ok(value := get(key, MISSING))}
    if len(valid) < len(checks):
        failed = [(key, get(key, MISSING), text) for key, _ok, text in checks if key not in valid]
        _report_fields(ctx, rule, host, path, failed)
    return valid


def _report_fields(
    ctx: Context, rule: str, host: str, path: str, failed: list[tuple[str, object, str]]
) -> None:
    problems = [
        f"{path}.{key} is missing"
        if value is MISSING
        else f"{path}.{key} must be {expected} (got {show(value)})"
        for key, value, expected in failed
    ]
    missing_only = all(value is MISSING for _key, value, _expected in failed)
    fix = _field_fix([f"{path}.{key}" for key, _value, _expected in failed], missing_only)
    ctx.problem(rule, host, "; ".join(problems), fix)


def disagreement(
    ctx: Context,
    rule: str,
    what: str,
    values: Mapping[str, K],
    render: Callable[[K], str],
    fix: str,
) -> None:
    """Report hosts whose value differs: the minority when a strict majority agrees, else all."""
    groups: dict[K, list[str]] = {}
    for host, key in values.items():
        groups.setdefault(key, []).append(host)
    if len(groups) < 2:
        return
    majority = strict_majority(groups)
    hosts = [host for key, members in groups.items() if key != majority for host in members]
    order = sorted(groups, key=lambda k: (-len(groups[k]), render(k), sorted(groups[k])))
    text = "; ".join(f"{render(key)} on {name_list(groups[key])}" for key in order)
    ctx.add(rule, hosts, f"{what} is not the same on every node: {text}", fix)


# --- preparation --------------------------------------------------------------------------------


def prepare(description: object, numbers: Mapping[str, int]) -> Context:
    """The context of ``description``; a malformed top level is reported, never raised."""
    if not is_mapping(description):
        ctx = Context(raw={}, numbers=numbers)
        ctx.add(
            "bootstrap-node",
            [],
            f"the cluster description must be a dictionary (got {show(description)})",
            FIX_BUG,
        )
        return ctx
    ctx = Context(raw=description, numbers=numbers)
    ctx.nodes = _prepare_nodes(ctx, description.get("nodes"))
    ctx.others = _prepare_others(ctx, description.get("others"))
    ctx.facts = _prepare_facts(ctx, description.get("facts"))
    ctx.outside = _prepare_outside(ctx, description.get("outside_limit"))
    for host, node in ctx.nodes.items():
        cluster = node.get("cluster")
        enabled = cluster.get("enabled") if is_mapping(cluster) else None
        (ctx.disabled if enabled is False else ctx.clustered).append(host)
    return ctx


def _prepare_nodes(ctx: Context, nodes: object) -> dict[str, Mapping[str, object]]:
    if nodes is None:
        return {}
    if not is_mapping(nodes):
        ctx.add(
            "bootstrap-node",
            [],
            f"nodes must be a dictionary of host name to variables (got {show(nodes)})",
            FIX_BUG,
        )
        return {}
    return {str(host): (node if is_mapping(node) else {}) for host, node in nodes.items()}


def _prepare_others(ctx: Context, others: object) -> dict[str, Mapping[str, object]]:
    fix = FIX_BUG
    if others is None:
        return {}
    if not is_mapping(others):
        ctx.add("no-foreign-instance", [], f"others must be a dictionary (got {show(others)})", fix)
        return {}
    result: dict[str, Mapping[str, object]] = {}
    for name, inst in others.items():
        host = str(name)
        if host in ctx.nodes:
            message = f"{host} is listed both as a node of the cluster and as another instance"
            ctx.add("no-foreign-instance", [host], message, fix)
        elif not is_mapping(inst):
            message = f"{host}: the entry in others must be a dictionary (got {show(inst)})"
            ctx.add("no-foreign-instance", [host], message, fix)
        else:
            result[host] = inst
    return result


def _prepare_outside(ctx: Context, outside: object) -> dict[str, object]:
    """``outside_limit``: {host: {node_id: ...}} of the cluster's nodes outside ``--limit``."""
    if outside is None:
        return {}
    if not is_mapping(outside):
        ctx.add("node-id", [], f"outside_limit must be a dictionary (got {show(outside)})", FIX_BUG)
        return {}
    result: dict[str, object] = {}
    for name, entry in outside.items():
        host = str(name)
        if host not in ctx.nodes:
            result[host] = entry.get("node_id") if is_mapping(entry) else None
    return result


def _prepare_facts(ctx: Context, facts: object) -> dict[str, Mapping[str, object]]:
    fix = FIX_FACTS
    if facts is None:
        return {}
    if not is_mapping(facts):
        ctx.add("one-keystore", [], f"facts must be a dictionary (got {show(facts)})", fix)
        return {}
    result: dict[str, Mapping[str, object]] = {}
    for host, entry in facts.items():
        if is_mapping(entry):
            result[str(host)] = entry
        elif entry is not None:
            message = f"{host}: gathered facts must be a dictionary (got {show(entry)})"
            ctx.add("one-keystore", [host], message, fix)
    return result
