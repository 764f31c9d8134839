"""Run-time state of one IDM stand-in (test double) node: lifecycle, readiness, activation.

Readiness follows PingIDM's ``/openidm/health/ready`` semantics as the collection relies on them:
ready once the start-up delay has elapsed, the last repository check-in succeeded, every
encrypted value of the stored configuration can be decrypted with this node's keystore, and the
node is not stopping.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

STARTING, ACTIVE, STOPPING = "STARTING", "ACTIVE", "STOPPING"


@dataclass(frozen=True)
class Status:
    state: str  # STARTING, ACTIVE_READY, ACTIVE_NOT_READY, STOPPING
    short_desc: str
    ready: bool
    live: bool


class NodeState:
    def __init__(self, node_id: str, active_passive: bool, checkin_stale_after_s: float):
        self.node_id = node_id
        self.active_passive = active_passive
        self._stale_after = checkin_stale_after_s
        self._lock = threading.Lock()
        self._phase = STARTING
        self._activation = "STANDBY" if active_passive else "ACTIVE"
        self._last_checkin_ok: float | None = None
        self._repo_problem: str | None = "no repository check-in yet"
        self._key_problem: str | None = None
        self.stop_event = threading.Event()
        self.active_event = threading.Event()
        self.first_checkin = threading.Event()  # set after the first check-in attempt

    # lifecycle -------------------------------------------------------------------------------
    @property
    def phase(self) -> str:
        with self._lock:
            return self._phase

    def activate(self) -> None:
        with self._lock:
            if self._phase == STARTING:
                self._phase = ACTIVE
        self.active_event.set()

    def begin_stop(self) -> None:
        with self._lock:
            self._phase = STOPPING
        self.stop_event.set()

    # activation (8.1 active/passive clustering) ----------------------------------------------
    @property
    def activation(self) -> str:
        with self._lock:
            return self._activation

    def set_activation(self, value: str) -> None:
        with self._lock:
            self._activation = value

    @property
    def runs_schedules(self) -> bool:
        return self.activation == "ACTIVE" and self.phase == ACTIVE

    # health inputs ---------------------------------------------------------------------------
    def checkin_succeeded(self) -> bool:
        """Record a successful check-in; True when the repository was unavailable before."""
        with self._lock:
            recovered = self._repo_problem is not None and self._last_checkin_ok is not None
            self._last_checkin_ok = time.monotonic()
            self._repo_problem = None
            return recovered

    def checkin_failed(self, problem: str) -> bool:
        """Record a failed check-in; True when this is a new problem."""
        with self._lock:
            new = self._repo_problem != problem
            self._repo_problem = problem
            return new

    def set_key_problem(self, problem: str | None) -> bool:
        with self._lock:
            changed = self._key_problem != problem
            self._key_problem = problem
            return changed

    def status(self) -> Status:
        with self._lock:
            phase = self._phase
            repo_problem = self._repo_problem
            last = self._last_checkin_ok
            key_problem = self._key_problem
        if phase == STOPPING:
            return Status("STOPPING", "OpenIDM is stopping", False, False)
        if phase == STARTING:
            return Status("STARTING", "OpenIDM starting", False, False)
        reasons = []
        if repo_problem is not None:
            reasons.append(repo_problem)
        elif last is None or time.monotonic() - last > self._stale_after:
            reasons.append("no successful repository check-in recently")
        if key_problem is not None:
            reasons.append(key_problem)
        if reasons:
            return Status("ACTIVE_NOT_READY", "; ".join(reasons), False, True)
        return Status("ACTIVE_READY", "OpenIDM ready", True, True)
