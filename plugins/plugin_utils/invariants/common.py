# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared, pure helpers for the cluster filters of idm_automation.cluster.

Used by the rules of ``cluster_invariants`` and by the ``node_id`` and ``secrets_source`` filters
so that all three agree on what a valid node ID is and on which node holds the cluster's keystore,
truststore and ``secrets.json``. No I/O, no Ansible imports: everything here is plain Python.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import TypeVar

NODE_ID_MAX_LENGTH = 64
# A node ID: an ASCII letter or digit, then up to 63 ASCII letters, digits, '.', '_' or '-'.
NODE_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
NODE_ID_REGEX = f"^{NODE_ID_PATTERN}$"
_NODE_ID = re.compile(NODE_ID_PATTERN)
_NOT_ALLOWED_RUN = re.compile(r"[^A-Za-z0-9._-]+")
_DASH_RUN = re.compile(r"-{2,}")
_LEADING_NON_ALNUM = re.compile(r"^[^A-Za-z0-9]+")

# Facts (sha256 checksums) that must be identical on every node: the three files IDM needs to
# share across the cluster. Their order is the order of a node's "secrets signature".
SECRET_FILE_FACTS = ("keystore_sha256", "truststore_sha256", "secrets_json_sha256")

Signature = tuple[str | None, ...]
K = TypeVar("K")


def is_valid_node_id(value: object) -> bool:
    """True when ``value`` is a string that IDM and this collection accept as a node ID."""
    return isinstance(value, str) and _NODE_ID.fullmatch(value) is not None


def normalise_node_id(value: str) -> str:
    """Comparison key that makes ``node1``, ``NODE1``, `` node1 `` and full-width forms equal."""
    return unicodedata.normalize("NFKC", value).casefold().strip()


def derive_node_id(name: str) -> str | None:
    """Derive a valid node ID from a host name; None when no valid character remains.

    NFKC-normalise, replace every run of characters outside ``[A-Za-z0-9._-]`` with one ``-``,
    collapse repeated ``-``, drop leading characters that are not letters or digits, keep at most
    64 characters. Case is preserved.
    """
    text = _NOT_ALLOWED_RUN.sub("-", unicodedata.normalize("NFKC", name))
    text = _LEADING_NON_ALNUM.sub("", _DASH_RUN.sub("-", text))
    return text[:NODE_ID_MAX_LENGTH] or None


def name_list(names: Iterable[str], limit: int = 10) -> str:
    """``a, b, c`` for a few names; ``a, b, … and 4990 more`` for many (sorted)."""
    ordered = sorted(names)
    if len(ordered) <= limit:
        return ", ".join(ordered)
    return f"{', '.join(ordered[:limit])} and {len(ordered) - limit} more"


def checksum(value: object) -> str | None:
    """A usable checksum (stripped, lower-case) or None when the value is absent or not text."""
    if isinstance(value, str) and value.strip():
        return value.strip().lower()
    return None


def secrets_signature(host_facts: object) -> Signature | None:
    """The (keystore, truststore, secrets.json) checksums of one host; None when it has none."""
    if not isinstance(host_facts, Mapping):
        return None
    signature = tuple(checksum(host_facts.get(key)) for key in SECRET_FILE_FACTS)
    return signature if any(signature) else None


def holds_key_material(host_facts: object) -> bool:
    """True when a host holds the cluster's key material: a keystore.

    Only a keystore shows that a node was initialised (IDM creates it at its first start, or the
    run installed one); ``secrets.json`` ships with the distribution, and a datasource or a
    truststore alone proves nothing. The preflight rule ``one-keystore``, the ``secrets_source``
    filter and the secrets phase all judge the same hosts through this one function.
    """
    return (
        isinstance(host_facts, Mapping) and checksum(host_facts.get("keystore_sha256")) is not None
    )


def key_holders(facts: object, hosts: Iterable[str]) -> list[str]:
    """The hosts (in the given order, once each) that hold key material (a keystore)."""
    if not isinstance(facts, Mapping):
        return []
    return [host for host in dict.fromkeys(hosts) if holds_key_material(facts.get(host))]


def group_secrets(facts: object, hosts: Iterable[str]) -> dict[Signature, list[str]]:
    """Key holders (in the given order) grouped by secrets signature; other hosts left out."""
    groups: dict[Signature, list[str]] = {}
    for host in key_holders(facts, hosts):
        signature = secrets_signature(facts.get(host))  # type: ignore[union-attr]
        if signature is not None:
            groups.setdefault(signature, []).append(host)
    return groups


def strict_majority(groups: Mapping[K, list[str]]) -> K | None:
    """The key whose group holds more than half of all grouped hosts, else None."""
    total = sum(len(members) for members in groups.values())
    for key, members in groups.items():
        if 2 * len(members) > total:
            return key
    return None


def describe_groups(groups: Iterable[list[str]]) -> str:
    """``[idm1, idm2] vs [idm3]``: groups largest first, then by their first host name."""
    ordered = sorted((sorted(group) for group in groups), key=lambda g: (-len(g), g))
    return " vs ".join(f"[{name_list(group)}]" for group in ordered)
