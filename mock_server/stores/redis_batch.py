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

#: Sends packed commands and returns that many replies in order (an exception for a failed
#: one).
Pipe = Callable[[list[bytes], int], list[Any]]
#: A caller's packed commands, how many replies they have, and where the reply goes.
Waiting = tuple[bytes, int, "asyncio.Future[Any]"]


class Batcher:
    """One pipeline per event-loop turn on ``pipe`` (each loop that calls it has its own)."""

    def __init__(self, pipe: Pipe) -> None:
        self.pipe = pipe
        self._waiting: list[Waiting] = []
        #: The loops that have a flush coming.
        self._due: set[asyncio.AbstractEventLoop] = set()
        self._lock = threading.Lock()  # the list, if loops in several threads share the store
        #: Pipelines sent, and commands sent in them (tests and the bench read them).
        self.flushes = 0
        self.commands = 0

    def call(self, packed: bytes, replies: int = 1) -> asyncio.Future[Any]:
        """The reply of ``packed`` (one command), sent with the others of this turn; for
        several commands (``replies`` > 1), the list of their replies, in order, an error
        as its exception object (the caller decides)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._lock:
            self._waiting.append((packed, replies, future))
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
            mine = [w for w in self._waiting if w[2].get_loop() is loop]
            others = [w for w in self._waiting if w[2].get_loop() is not loop]
            batch, rest = mine[:MOST], mine[MOST:]
            self._waiting = rest + [w for w in others if not w[2].get_loop().is_closed()]
            if not rest:
                self._due.discard(loop)
        if rest:
            loop.call_soon(self.flush)
        batch = [waiting for waiting in batch if not waiting[2].cancelled()]
        if batch:
            self._send(batch)

    def _send(self, batch: list[Waiting]) -> None:
        self.flushes += 1
        self.commands += len(batch)
        expected = sum(replies for _, replies, _ in batch)
        try:
            replies = self.pipe([packed for packed, _, _ in batch], expected)
        except (redis.RedisError, OSError) as exc:
            replies = [exc] * expected
        at = 0
        for _, count, future in batch:
            mine, at = replies[at : at + count], at + count
            if future.cancelled():
                continue
            if count > 1:
                future.set_result(mine)
            elif isinstance(mine[0], BaseException):
                future.set_exception(mine[0])
            else:
                future.set_result(mine[0])
