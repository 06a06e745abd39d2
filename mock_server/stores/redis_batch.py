"""Commands of concurrent requests sent to Redis as one pipeline per event-loop turn.

Each request waiting on the store costs, on its own, one blocking round trip: a write, a read,
and (with Redis on the same host) two context switches, which cost more than the Python work
of the request. :class:`Batcher` collects the commands that the requests of one event-loop
turn ask for (:meth:`Batcher.call`), and at the end of the turn writes them in one go and reads
their replies in order (one round trip for all, on the store's request connection); each
request then resumes with its own reply, or its own error (a server error concerns that
command only; a broken connection fails every command of the batch that had no reply yet).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Final

import redis

#: Commands sent at most in one pipeline (more wait for the next turn).
MOST: Final = 256

#: Sends packed commands and returns their replies in order (an exception for a failed one).
Pipe = Callable[[list[bytes]], list[Any]]


class Batcher:
    """One pipeline per event-loop turn on ``pipe`` (each loop that calls it has its own)."""

    def __init__(self, pipe: Pipe) -> None:
        self.pipe = pipe
        self._waiting: list[tuple[bytes, asyncio.Future[Any]]] = []
        #: The loops that have a flush coming.
        self._due: set[asyncio.AbstractEventLoop] = set()
        self._lock = threading.Lock()  # the list, if loops in several threads share the store
        #: Pipelines sent, and commands sent in them (tests and the bench read them).
        self.flushes = 0
        self.commands = 0

    def call(self, packed: bytes) -> asyncio.Future[Any]:
        """The reply of ``packed`` (one command), sent with the others of this turn."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._lock:
            self._waiting.append((packed, future))
            due = loop not in self._due
            self._due.add(loop)
        if due:
            loop.call_soon(self.flush)
        return future

    def flush(self) -> None:
        """Send what this loop's requests wait for (at most :data:`MOST`; the rest in the next
        turn) and hand out the replies."""
        loop = asyncio.get_running_loop()
        with self._lock:
            mine = [(p, f) for p, f in self._waiting if f.get_loop() is loop]
            others = [(p, f) for p, f in self._waiting if f.get_loop() is not loop]
            batch, rest = mine[:MOST], mine[MOST:]
            self._waiting = rest + [(p, f) for p, f in others if not f.get_loop().is_closed()]
            if not rest:
                self._due.discard(loop)
        if rest:
            loop.call_soon(self.flush)
        batch = [(packed, future) for packed, future in batch if not future.cancelled()]
        if batch:
            self._send(batch)

    def _send(self, batch: list[tuple[bytes, asyncio.Future[Any]]]) -> None:
        self.flushes += 1
        self.commands += len(batch)
        try:
            replies = self.pipe([packed for packed, _ in batch])
        except (redis.RedisError, OSError) as exc:
            replies = [exc] * len(batch)
        for (_, future), reply in zip(batch, replies, strict=True):
            if future.cancelled():
                continue
            if isinstance(reply, BaseException):
                future.set_exception(reply)
            else:
                future.set_result(reply)
