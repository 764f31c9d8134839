"""The physical limit of a cold deploy, from the nodes' own logs (issue 18).

A cold deploy cannot be faster than the work that must happen one after the other: the DDL once,
the bootstrap node's start (it creates the key material the others need), one parallel start of
all the other nodes, and the load balancer's health checks seeing the last node up. Everything
else (packages, files, checks) could in principle overlap with those. This module turns what
each node logged into that limit, so that ``bench/run.py`` can report ``time / limit``.

A node's start is read from its service journal (``journalctl -u <service> -o json``): from the
line ``Using OPENIDM_HOME: ...`` that ``startup.sh`` prints when it is launched (the product's
script prints the same) to the line ``OpenIDM ready``. Pure functions only; no I/O here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

START_MARK = "Using OPENIDM_HOME"
READY_MARK = "OpenIDM ready"


@dataclass(frozen=True)
class Start:
    """One launch of a node: when it was launched and when it said it was ready (epoch s)."""

    launched: float
    ready: float | None

    @property
    def seconds(self) -> float | None:
        return None if self.ready is None else round(self.ready - self.launched, 3)


def starts_from_journal(lines: Iterable[str]) -> list[Start]:
    """Every launch in a journal dump (one JSON object per line), in order.

    >>> starts_from_journal([
    ...     '{"MESSAGE": "Using OPENIDM_HOME: /opt/idm", "__REALTIME_TIMESTAMP": "1000000"}',
    ...     '{"MESSAGE": "OpenIDM ready", "__REALTIME_TIMESTAMP": "21500000"}'])
    [Start(launched=1.0, ready=21.5)]
    """
    found: list[Start] = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        message = entry.get("MESSAGE")
        if isinstance(message, list):  # journald stores non-UTF-8 messages as byte arrays
            message = bytes(message).decode("utf-8", "replace")
        if not isinstance(message, str):
            continue
        stamp = int(entry.get("__REALTIME_TIMESTAMP", 0)) / 1e6
        if message.startswith(START_MARK):
            found.append(Start(launched=stamp, ready=None))
        elif message.startswith(READY_MARK) and found and found[-1].ready is None:
            found[-1] = Start(launched=found[-1].launched, ready=stamp)
    return found


def physical_limit(
    ddl_seconds: float,
    starts: Mapping[str, list[Start]],
    bootstrap: str,
    health_seconds: float,
) -> dict:
    """The sequential work of a cold deploy and how the run's own starts were laid out.

    ``limit`` = DDL + the bootstrap node's first start (it creates the key material and fills the
    repository, so every other start waits for it) + the longest last start of the other nodes +
    the health checks; ``critical_path`` is what the run actually spent from the bootstrap's first
    launch to the last node's readiness, so that the gap between the two shows where time went.
    A later launch of the bootstrap node (with the cluster's certificate) may overlap the others'.
    """
    if bootstrap not in starts or not starts[bootstrap]:
        raise ValueError(f"no start of the bootstrap node {bootstrap} in its journal")
    incomplete = sorted(h for h, runs in starts.items() if not runs or runs[-1].ready is None)
    if incomplete:
        raise ValueError(f"no 'OpenIDM ready' after the last launch of {', '.join(incomplete)}")
    last = {host: runs[-1] for host, runs in starts.items()}
    others = [s.seconds for host, s in last.items() if host != bootstrap]
    first = next(s for s in starts[bootstrap] if s.ready is not None)
    boot = first.seconds
    limit = ddl_seconds + boot + (max(others) if others else 0.0) + health_seconds
    launched = starts[bootstrap][0].launched
    return {
        "ddl_s": round(ddl_seconds, 3),
        "bootstrap_start_s": boot,
        "other_starts_s": {"max": max(others, default=0.0), "min": min(others, default=0.0)},
        "health_s": health_seconds,
        "limit_s": round(limit, 1),
        "critical_path_s": round(max(s.ready for s in last.values()) - launched, 1),
        # Nodes launched more than once during a cold deploy: a restart that cost a start.
        "launches": {host: len(runs) for host, runs in sorted(starts.items()) if len(runs) > 1},
    }
