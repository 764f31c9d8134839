# Copyright: idm_automation maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The effective state of an instance listed by ``/openidm/cluster`` (contract row C9).

Where a node in recovery shows is not settled for PingIDM 8.1 (row C9, uncertain):
- newer versions: the top-level ``state`` is ``processing-down``;
- older versions: the top-level ``state`` stays ``running`` and a ``recovery`` object carries
  ``"state": "processing-down"`` until the instance is ``down``.
``effective_state`` reads both shapes the same way, and never calls an instance in recovery
``running``. Pure functions; used by the modules and the filters alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

RUNNING = "running"
PROCESSING_DOWN = "processing-down"
DOWN = "down"
UNKNOWN = "unknown"


def in_recovery(instance: Mapping[str, Any]) -> bool:
    """True while another node recovers this instance, in either shape of row C9.

    A ``recovery`` object says so by ``"state": "processing-down"`` (older versions) or, without a
    ``state`` of its own, by a recovery that started (``recoveringInstanceId``) and has not
    finished (no ``recoveryFinished``)."""
    recovery = instance.get("recovery")
    if not isinstance(recovery, Mapping):
        return False
    if "state" in recovery:
        return recovery.get("state") == PROCESSING_DOWN
    return bool(recovery.get("recoveringInstanceId")) and not recovery.get("recoveryFinished")


def effective_state(instance: Mapping[str, Any]) -> str:
    """``running``, ``processing-down``, ``down`` (or what else IDM said; ``unknown`` when
    nothing): the top-level state, except that an instance in recovery is ``processing-down``."""
    state = instance.get("state")
    state = str(state) if state not in (None, "") else UNKNOWN
    if state == RUNNING and in_recovery(instance):
        return PROCESSING_DOWN
    return state


def instance_states(instances: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """instanceId -> effective state, in the order listed."""
    return {
        str(item.get("instanceId")): effective_state(item)
        for item in instances
        if isinstance(item, Mapping) and item.get("instanceId") not in (None, "")
    }


def running_instances(instances: Iterable[Mapping[str, Any]]) -> list[str]:
    """The instanceIds that are effectively running, in the order listed."""
    return [iid for iid, state in instance_states(instances).items() if state == RUNNING]


def instance_list(value: Any) -> list[Mapping[str, Any]]:
    """The instances of a cluster query answer: its ``result`` list, or the list itself."""
    if isinstance(value, Mapping):
        value = value.get("result")
    if not isinstance(value, (list, tuple)):
        return []
    return [item for item in value if isinstance(item, Mapping)]
