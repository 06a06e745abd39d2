"""Per-host isolation of webhook deliveries: a slow or dead receiver only slows itself.

Every receiving host (``host:port`` of the endpoint) may have at most ``per_host`` attempts
in flight (``--webhook-per-host``, default 4 of the 32 shared slots); a host whose last
``FAILING_AFTER`` attempts failed (timeout, connection error, non-2xx) backs off to one
attempt at a time until one succeeds. Attempts over a host's limit are parked by the schedule
(they do not hold a shared slot) and come back when one of the host's attempts ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

FAILING_AFTER: Final = 2
_KEYS_KEPT: Final = 4096


@dataclass(slots=True)
class HostState:
    """One receiving host: attempts in flight and consecutive failures."""

    in_flight: int = 0
    failures: int = 0


class HostGate:
    """Admission of attempts per receiving host."""

    def __init__(self, per_host: int) -> None:
        if per_host < 1:
            raise ValueError("webhook_per_host must be >= 1")
        self.per_host = per_host
        self.hosts: dict[str, HostState] = {}
        self._keys: dict[str, str] = {}

    def key(self, endpoint: str) -> str:
        """``host:port`` of ``endpoint`` (lower-case; memoised)."""
        found = self._keys.get(endpoint)
        if found is None:
            try:
                found = urlsplit(endpoint).netloc.lower().rpartition("@")[2]
            except ValueError:
                found = endpoint
            if len(self._keys) >= _KEYS_KEPT:
                self._keys.clear()
            self._keys[endpoint] = found
        return found

    def limit(self, key: str) -> int:
        """How many attempts ``key`` may have in flight now (1 while it is failing)."""
        state = self.hosts.get(key)
        return 1 if state is not None and state.failures >= FAILING_AFTER else self.per_host

    def failing(self, key: str) -> bool:
        """Whether ``key`` is backing off."""
        return self.limit(key) == 1 and self.per_host > 1

    def try_acquire(self, key: str) -> bool:
        """Take a slot of ``key`` if it has one free."""
        state = self.hosts.get(key)
        if state is None:
            state = self.hosts[key] = HostState()
        if state.in_flight >= self.limit(key):
            return False
        state.in_flight += 1
        return True

    def release(self, key: str, ok: bool | None) -> bool:
        """An attempt of ``key`` ended (``ok`` None: not sent, e.g. cancelled or refused);
        whether the host now has room for a parked attempt."""
        state = self.hosts.get(key)
        if state is None:
            return True
        state.in_flight = max(0, state.in_flight - 1)
        if ok is True:
            state.failures = 0
        elif ok is False:
            state.failures += 1
        if state.in_flight == 0 and state.failures == 0:
            del self.hosts[key]  # keep only hosts with something to remember
            return True
        return state.in_flight < self.limit(key)

    def room(self, key: str) -> int:
        """How many more attempts ``key`` may start now."""
        state = self.hosts.get(key)
        return self.limit(key) - (state.in_flight if state is not None else 0)

    def clear(self) -> None:
        """Forget every host (reset)."""
        self.hosts.clear()
