# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether two repository connections lead to the same PostgreSQL database.

One helper for every place that asks: the invariants (preflight, ``one-repository``) and the stop
phase (``same_repository`` filter). Two connections are the same repository when port and
database are equal and the hosts are the same name (case, surrounding blanks and a final dot
ignored) or resolve to at least one common address: ``pg1``, ``pg1.example.com`` and ``10.0.0.5``
are one server when the node resolves both names to 10.0.0.5.

A connection is a mapping ``{host, port, database, addresses}`` (``addresses``: what the host
resolves to, optional), the membership record's string ``host:port/database``, or
``{record: "host:port/database", addresses: [...]}``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any

_RECORD = re.compile(r"^(?P<host>.*):(?P<port>\d+)/(?P<database>.*)$", re.DOTALL)


def normalise_host(name: object) -> str:
    """The host name as compared: no surrounding blanks or brackets, no final dot, no case."""
    return str(name).strip().strip("[]").rstrip(".").casefold()


def normalise_address(text: object) -> str | None:
    """An IP address in its canonical form (IPv4-mapped IPv6 as IPv4), or None."""
    try:
        address = ipaddress.ip_address(normalise_host(text).split("%", 1)[0])
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped if mapped is not None else address)


def parse(value: object) -> dict[str, Any] | None:
    """A connection as a dict (host, port, database, addresses), or None when not one."""
    if isinstance(value, Mapping) and isinstance(value.get("record"), str):
        # The membership record's string with the addresses its host resolves to.
        recorded = parse(value["record"])
        if recorded is None:
            return None
        found = addresses(recorded["host"], value.get("addresses"))
        return {**recorded, "addresses": sorted(found)}
    if isinstance(value, str):
        match = _RECORD.match(value)
        if not match or not match.group("host"):
            return None
        value = {
            "host": match.group("host"),
            "port": int(match.group("port")),
            "database": match.group("database"),
        }
    if not isinstance(value, Mapping):
        return None
    host, port, database = value.get("host"), value.get("port"), value.get("database")
    if not isinstance(host, str) or not host.strip() or not isinstance(database, str):
        return None
    if isinstance(port, bool):
        return None
    try:
        port = int(port)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return {
        "host": host,
        "port": port,
        "database": database,
        "addresses": sorted(addresses(host, value.get("addresses"))),
    }


def addresses(host: str, resolved: object) -> set[str]:
    """The canonical addresses of a host: its resolved ones, and itself when it is an address."""
    found = set()
    if isinstance(resolved, Iterable) and not isinstance(resolved, (str, bytes, Mapping)):
        for item in resolved:
            canonical = normalise_address(item)
            if canonical is not None:
                found.add(canonical)
    literal = normalise_address(host)
    if literal is not None:
        found.add(literal)
    return found


def same_repository(first: object, second: object) -> bool:
    """True when both connections lead to one database (see the module docstring).

    A connection that cannot be read is never the same as anything: the caller treats that as a
    change, which is the safe answer for a repository.
    """
    a, b = parse(first), parse(second)
    if a is None or b is None:
        return False
    if a["port"] != b["port"] or a["database"] != b["database"]:
        return False
    if normalise_host(a["host"]) == normalise_host(b["host"]):
        return True
    return bool(set(a["addresses"]) & set(b["addresses"]))


def show(value: object) -> str:
    """host:port/database (and the addresses it resolves to) for a message."""
    conn = parse(value)
    if conn is None:
        return repr(value)
    text = f"{conn['host']}:{conn['port']}/{conn['database']}"
    if conn["addresses"] and normalise_address(conn["host"]) is None:
        text += f" ({', '.join(conn['addresses'])})"
    elif not conn["addresses"]:
        text += " (not resolved)"
    return text
