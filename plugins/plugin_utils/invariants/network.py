# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network rules: ports that can all be bound, and certificates that cover the name clients use.

Rules ``ports`` (7) and ``tls-names`` (8); see ``registry``. ``ports`` fills ``ctx.listeners``,
which ``tls-names`` reads, so it runs first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

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


def check_ports(ctx: Context) -> None:
    """Valid ports, one purpose per port and instance, no port shared on one machine."""
    used: dict[str, list[int]] = {}
    machines: dict[str, str] = {}
    instances = [(h, n, True) for h, n in ctx.nodes.items()]
    instances += [(h, o, False) for h, o in ctx.others.items()]
    for host, inst, is_node in instances:
        ctx.listeners[host] = _listeners(ctx, host, inst, required=is_node)
        used[host] = _instance_ports(ctx, host, inst, ctx.listeners[host])
        machine = inst.get("machine")
        if is_text(machine):
            machines[host] = str(machine).strip()
        else:
            bad_field(ctx, "ports", host, "machine", machine, "a non-empty string")
    _machine_clashes(ctx, used, machines)


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
    if ports is not None:
        valid = valid_fields(ctx, "ports", host, "ports", ports, _PORT_CHECKS)
        labelled += [(int(port), key) for key, port in valid.items()]  # type: ignore[call-overload]
    labelled += [(item.port, item.name) for item in listeners if item.enabled]
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


def _machine_clashes(
    ctx: Context, used: Mapping[str, list[int]], machines: Mapping[str, str]
) -> None:
    owners: dict[str, dict[int, str]] = {}
    sharing: dict[tuple[str, int], list[str]] = {}
    for host, machine in machines.items():
        key = machine.casefold()
        on_machine = owners.setdefault(key, {})
        for port in used.get(host, ()):
            owner = on_machine.setdefault(port, host)
            if owner != host:
                sharing.setdefault((key, port), [owner]).append(host)
    clashes: dict[tuple[str, ...], list[int]] = {}
    for (_machine, port), hosts in sharing.items():
        clashes.setdefault(tuple(sorted(hosts)), []).append(port)
    for hosts, ports in clashes.items():
        listed = ", ".join(str(port) for port in sorted(ports))
        machine = min(machines[host] for host in hosts)
        message = f"{name_list(hosts)} run on the same machine {machine} and share port(s) {listed}"
        ctx.add("ports", hosts, message, FIX_PORTS)


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
