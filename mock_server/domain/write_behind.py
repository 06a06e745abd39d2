"""A store log written behind, in batches: one round trip for many entries.

:class:`WriteBehind` queues text entries for one bounded store log and appends the queue once
it holds :data:`BATCH` entries or its oldest is :data:`FLUSH_S` old; a daemon thread that looks
every ``FLUSH_S`` flushes what a quiet spell leaves behind. Readers flush first, so a process
always reads its own entries; another process sees them at most a few ``FLUSH_S`` late. The
journal and the webhook delivery log on a shared store both use it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Final

from mock_server.domain.store import TaskStore

log = logging.getLogger("piapi_mock")

#: How long entries gather before one append (wall seconds), and how many at most.
FLUSH_S: Final = 0.005
FLUSH_NS: Final = 5_000_000
BATCH: Final = 64


class WriteBehind:
    """Entries for the store log ``name`` (kept to ``size``), appended in batches."""

    def __init__(self, store: TaskStore, name: str, size: int) -> None:
        self.store = store
        self.name = name
        self.size = max(1, size)
        self._queued: list[str] = []
        self._since = 0  # monotonic ns of the oldest queued entry
        self._lock = threading.Lock()  # the queue (held for a swap only)
        self._writing = threading.Lock()  # appends to the store, in order
        self._writer: threading.Thread | None = None

    def add(self, text: str) -> None:
        """Queue an entry (appended with the next batch)."""
        now = time.monotonic_ns()
        with self._lock:
            if not self._queued:
                self._since = now
            self._queued.append(text)
            due = len(self._queued) >= BATCH or now - self._since > FLUSH_NS
        if self._writer is None:
            self._writer = threading.Thread(target=self._write, name=self.name, daemon=True)
            self._writer.start()
        if due:
            self.flush()

    def flush(self) -> None:
        """Append every queued entry now."""
        with self._writing:
            with self._lock:
                queued, self._queued = self._queued, []
            if queued:
                self.store.append(self.name, queued, self.size)

    def drop(self) -> None:
        """Forget what is queued (a reset: the store's ``clear`` forgets the rest)."""
        with self._lock:
            self._queued = []

    def _write(self) -> None:
        while True:
            time.sleep(FLUSH_S)
            if self._queued and time.monotonic_ns() - self._since > FLUSH_NS:
                try:
                    self.flush()
                except Exception:  # the store is gone (shutdown) or failing: keep serving
                    log.exception("writing the %s log to the store failed", self.name)
