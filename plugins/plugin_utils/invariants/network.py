# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network rules: ports that can all be bound, certificates that cover the name clients use, and
instances that share a machine without sharing an installation.

Rules ``ports`` (7), ``tls-names`` (8) and ``own-installation`` (13); see ``registry``. ``ports``
fills ``ctx.listeners``, which ``tls-names`` reads, and ``ctx.machines``, which
``own-installation`` reads, so it runs first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.common import (
    name_list,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.context import (
    WARNING,
    Context,
    Listener,
    bad_field,
    section,
    valid_fields,
)
from ansible_collections.idm_automation.cluster.plugins.plugin_utils.invariants.values import (
    Check,
    is_bool,
    is_int,
    is_list,
    is_mapping,
    is_names,
    is_optional_names,
    is_port,
    is_text,
    show,
)

# --- ports --------------------------------------------------------------------------------------

PORT_KEYS = ("http", "https", "mutualauth")
_PORT_CHECKS: tuple[Check, ...] = tuple(
    (key, is_port, "an integer from 1 to 65535") for key in PORT_KEYS
)
_LISTENER_CHECKS: tuple[Check, ...] = (
    ("name", is_text, "a non-empty string"),
    ("port", is_port, "an integer from 1 to 65535"),
    ("secure", is_bool, "true or false"),
    ("enabled", is_bool, "true or false"),
)
FIX_PORTS = (
    "give each port one purpose per instance (a listener that serves a boot port carries the same "
    "name: http, https or mutualauth), and distinct ports to instances that share a machine"
)


FIX_LISTENER_PORT = (
    "give the listener named {name} the port of idm_port_{name} (the load balancer and the health "
    "checks use that one), or give the listener another name"
)
FIX_PRIVILEGED = (
    "use ports from 1024 up for IDM (the load balancer serves 80 and 443), or run the service as "
    "root (idm_user); the collection's unit grants no CAP_NET_BIND_SERVICE"
)
FIX_LB_PORTS = (
    "give the load balancer (idm_lb_http_port, idm_lb_https_port, idm_lb_stats_port) and the IDM "
    "instances on one machine distinct ports, or put the load balancer on another machine"
)
PRIVILEGED_BELOW = 1024
_LB_PORT_KEYS = ("http", "https", "stats")


class _Entry(NamedTuple):
    """One instance or load balancer on a machine, with the ports it binds."""

    label: str  # how messages name it
    host: str  # the inventory host
    machine: str
    ports: list[int]


def check_ports(ctx: Context) -> None:
    """Valid ports, one purpose per port and instance, nothing shared on one machine."""
    entries: list[_Entry] = []
    instances = [(h, n, True) for h, n in ctx.nodes.items()]
    instances += [(h, o, False) for h, o in ctx.others.items()]
    for host, inst, is_node in instances:
        ctx.listeners[host] = _listeners(ctx, host, inst, required=is_node)
        used = _instance_ports(ctx, host, inst, ctx.listeners[host])
        _privileged(ctx, host, inst, used)
        machine = inst.get("machine")
        if is_text(machine):
            entries.append(_Entry(host, host, str(machine).strip(), used))
        else:
            bad_field(ctx, "ports", host, "machine", machine, "a non-empty string")
    entries += _balancer_entries(ctx)
    _machine_clashes(ctx, entries)


def _privileged(ctx: Context, host: str, inst: Mapping[str, object], used: list[int]) -> None:
    """Ports below 1024 need root: the unit runs as idm_user and grants no capability."""
    user = inst.get("service_user")
    low = sorted(port for port in used if port < PRIVILEGED_BELOW)
    if not low or user == "root":
        return
    who = f"user {show(user)}" if is_text(user) else "a user other than root"
    listed = ", ".join(str(port) for port in low)
    message = (
        f"port(s) {listed} are below {PRIVILEGED_BELOW}, which only root or a process with "
        f"CAP_NET_BIND_SERVICE may bind; the IDM service runs as {who} and its unit grants no "
        "capability, so IDM would fail to start"
    )
    ctx.problem("ports", host, message, FIX_PRIVILEGED)


def _listeners(
    ctx: Context, host: str, inst: Mapping[str, object], required: bool
) -> list[Listener]:
    raw = inst.get("listeners")
    if raw is None and not required:
        return []
    if not is_list(raw):
        bad_field(ctx, "ports", host, "listeners", raw, "a list")
        return []
    result = []
    for index, item in enumerate(raw):  # type: ignore[arg-type]
        path = f"listeners[{index}]"
        if not is_mapping(item):
            bad_field(ctx, "ports", host, path, item, "a dictionary")
            continue
        valid = valid_fields(ctx, "ports", host, path, item, _LISTENER_CHECKS)
        if len(valid) == len(_LISTENER_CHECKS):
            result.append(Listener(*valid.values()))  # same order as _LISTENER_CHECKS
    return result


def _instance_ports(
    ctx: Context, host: str, inst: Mapping[str, object], listeners: list[Listener]
) -> list[int]:
    labelled: list[tuple[int, str]] = []
    ports = section(ctx, "ports", host, inst, "ports")
    boot: dict[str, object] = {}
    if ports is not None:
        boot = valid_fields(ctx, "ports", host, "ports", ports, _PORT_CHECKS)
        labelled += [(int(port), key) for key, port in boot.items()]  # type: ignore[call-overload]
    labelled += [(item.port, item.name) for item in listeners if item.enabled]
    for item in listeners:
        expected = boot.get(item.name) if item.enabled else None
        if expected is not None and item.port != expected:
            message = (
                f"{host}: the listener named {item.name} serves port {item.port}, but "
                f"idm_port_{item.name} is {expected}; the load balancer and the health checks "
                f"would probe {expected}"
            )
            ctx.add("ports", [host], message, FIX_LISTENER_PORT.format(name=item.name))
    uses: dict[int, str] = {}
    clashes: dict[int, set[str]] = {}
    for port, label in labelled:
        first = uses.setdefault(port, label)
        if first != label:
            clashes.setdefault(port, {first}).add(label)
    for port, names in clashes.items():
        message = f"{host} uses port {port} for more than one purpose: {name_list(names)}"
        ctx.add("ports", [host], message, FIX_PORTS)
    return list(uses)


def _is_lb_port(value: object) -> bool:
    return is_port(value) or (is_int(value) and value == 0)


def _balancer_entries(ctx: Context) -> list[_Entry]:
    """The load balancers that say where they run and what they bind (both optional)."""
    balancers = ctx.raw.get("loadbalancers")
    if not is_mapping(balancers):
        return []  # reported by loadbalancer-backends
    checks: tuple[Check, ...] = tuple(
        (key, _is_lb_port, "an integer from 1 to 65535 (0: off)") for key in _LB_PORT_KEYS
    )
    entries = []
    for name, spec in balancers.items():  # type: ignore[union-attr]
        if not is_mapping(spec) or spec.get("machine") is None:
            continue
        lb = str(name)
        machine, ports = spec.get("machine"), spec.get("ports")
        if not is_text(machine):
            bad_field(ctx, "ports", lb, "machine", machine, "a non-empty string")
            continue
        used: list[int] = []
        if ports is not None:
            table = section(ctx, "ports", lb, spec, "ports")
            valid = {} if table is None else valid_fields(ctx, "ports", lb, "ports", table, checks)
            used = sorted({int(port) for port in valid.values() if port})  # type: ignore[call-overload]
        entries.append(_Entry(f"{lb} (load balancer)", lb, str(machine).strip(), used))
    return entries


def _machine_groups(ctx: Context, entries: list[_Entry]) -> dict[str, str]:
    """Entry label -> machine key. A machine is known by its ``machine`` and by the inventory
    names of the hosts on it: a host whose ansible_host is another host's inventory name runs on
    that host's machine (one machine under two aliases)."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for entry in entries:
        machine, host = entry.machine.casefold(), entry.host.casefold()
        if machine == host:
            root(machine)
            continue
        first, second = root(machine), root(host)
        if first != second:
            parent[max(first, second)] = min(first, second)
    groups = {entry.label: root(entry.machine.casefold()) for entry in entries}
    names: dict[str, set[str]] = {}
    for entry in entries:
        names.setdefault(groups[entry.label], set()).add(entry.machine)
    for entry in entries:
        if entry.label == entry.host:  # an IDM instance (load balancers are labelled)
            ctx.machines[entry.host] = groups[entry.label]
    ctx.machine_names.update({key: " = ".join(sorted(value)) for key, value in names.items()})
    return groups


def _machine_clashes(ctx: Context, entries: list[_Entry]) -> None:
    groups = _machine_groups(ctx, entries)
    owners: dict[str, dict[int, _Entry]] = {}
    sharing: dict[tuple[str, int], list[_Entry]] = {}
    for entry in entries:
        key = groups[entry.label]
        on_machine = owners.setdefault(key, {})
        for port in entry.ports:
            owner = on_machine.setdefault(port, entry)
            if owner is not entry:
                sharing.setdefault((key, port), [owner]).append(entry)
    by_label = {entry.label: entry for entry in entries}
    clashes: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for (machine, port), sharers in sharing.items():
        labels = tuple(sorted({entry.label for entry in sharers}))
        clashes.setdefault((machine, labels), []).append(port)
    for (machine, labels), ports in clashes.items():
        listed = ", ".join(str(port) for port in sorted(ports))
        message = (
            f"{name_list(labels)} run on the same machine {ctx.machine_names[machine]} and share "
            f"port(s) {listed}"
        )
        hosts = [by_label[label].host for label in labels]
        balancer = any(by_label[label].label != by_label[label].host for label in labels)
        ctx.add("ports", hosts, message, FIX_LB_PORTS if balancer else FIX_PORTS)


# --- own-installation ---------------------------------------------------------------------------

FIX_INSTALLATION = (
    "give each IDM instance on a machine its own idm_home and idm_service_name (and its own "
    "ports), or put the hosts on different machines; two inventory names for one machine deploy "
    "one installation twice"
)


_INSTALLATION_PARTS = (("installation directory", "home"), ("service name", "service"))


def check_own_installation(ctx: Context) -> None:
    """Instances on one machine (aliases included) have their own directory and service."""
    owners: dict[tuple[str, str, str], list[str]] = {}
    machines = ctx.machines
    for instances in (ctx.nodes, ctx.others):
        for host, inst in instances.items():
            machine = machines.get(host)
            if machine is None:
                continue  # no machine (reported by ports)
            for what, key in _INSTALLATION_PARTS:
                value = inst.get(key)
                if value is None:
                    continue  # not described
                if not is_text(value):
                    bad_field(ctx, "own-installation", host, key, value, "a non-empty string")
                    continue
                text = value.strip().rstrip("/") or "/"  # type: ignore[union-attr]
                owners.setdefault((machine, what, text), []).append(host)
    for (machine, what, value), hosts in owners.items():
        if len(hosts) > 1:
            message = (
                f"{name_list(hosts)} run on the same machine {ctx.machine_names[machine]} and "
                f"share the {what} {show(value)}: each run would rewrite the other's files "
                "and restart the other's service"
            )
            ctx.add("own-installation", hosts, message, FIX_INSTALLATION)


# --- tls-names ----------------------------------------------------------------------------------

_TLS_CHECKS: tuple[Check, ...] = (
    ("public_hostname", is_text, "a non-empty string"),
    ("certificate_names", is_optional_names, "a list of host names or null"),
    ("clients_use_tls", is_bool, "true or false"),
)
FIX_TLS = (
    "issue the node certificate for the name clients use (subject or subject alternative name "
    "{name}, or a matching *. wildcard), or correct the public host name"
)


def _host_key(name: str) -> str:
    return name.strip().rstrip(".").casefold()


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def covers(names: Iterable[str], public: str) -> bool:
    """True when a certificate with these names is valid for the host name ``public``."""
    target = _host_key(public)
    label, _dot, parent = target.partition(".")
    for name in names:
        key = _host_key(name)
        if key == target:
            return True
        if key.startswith("*.") and key[2:] == parent and label and not _is_ip(target):
            return True
    return False


def check_tls_names(ctx: Context) -> None:
    """When clients use TLS, a node's certificate (live, else planned) covers its host name."""
    unknown: list[str] = []
    known = False
    for host, node in ctx.nodes.items():
        tls = section(ctx, "tls-names", host, node, "tls")
        live = ctx.fact(host, "certificate_names", "tls-names", is_names, "a list of names")
        if tls is None:
            continue
        valid = valid_fields(ctx, "tls-names", host, "tls", tls, _TLS_CHECKS)
        secure = any(item.secure and item.enabled for item in ctx.listeners.get(host, ()))
        if len(valid) < len(_TLS_CHECKS) or not valid["clients_use_tls"] or not secure:
            continue
        planned = valid["certificate_names"]
        if live is None and planned is None:
            unknown.append(host)
            continue
        known = True
        _tls_verdict(ctx, host, str(valid["public_hostname"]), live, planned)  # type: ignore[arg-type]
    # Only when nodes were inspected: before a first deployment nothing can be known yet.
    if unknown and not known and ctx.facts:
        message = (
            f"the certificate names of {name_list(unknown)} are unknown, so nothing checks that "
            "they cover the host name clients use (TLS requests with another host name get 400)"
        )
        fix = "declare the certificate names, or check them yourself"
        ctx.add("tls-names", unknown, message, fix, WARNING)


def _tls_verdict(
    ctx: Context, host: str, public: str, live: list[str] | None, planned: list[str] | None
) -> None:
    if covers(live if live is not None else planned or [], public):
        return
    fix = FIX_TLS.format(name=show(public))
    if live is not None and planned is not None and covers(planned, public):
        message = (
            f"the live certificate ({_names(live)}) does not cover {show(public)}; the run "
            "installs the planned certificate, which does"
        )
        ctx.problem("tls-names", host, message, "nothing, the run repairs it", WARNING)
        return
    names = live if live is not None else planned
    which = "live" if live is not None else "planned"
    message = (
        f"the {which} certificate ({_names(names or [])}) does not cover the public host name "
        f"{show(public)}: TLS requests for that name get 400 Bad Request"
    )
    ctx.problem("tls-names", host, message, fix)


def _names(names: list[str]) -> str:
    return "names " + name_list(show(name) for name in names) if names else "no names"
