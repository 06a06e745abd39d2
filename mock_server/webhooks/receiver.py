"""A tiny webhook receiver on a loopback port (asyncio streams, no framework).

Used by the project's tests and benchmarks, and handy for trying the fake by hand
(``python -m mock_server.webhooks.receiver --port 9000``). It records every POST (``GET
/_count`` answers how many arrived, and how many distinct bodies) and can be told to
misbehave: answer 500 for the next N requests, hang, answer 10 MB, or reset the connection.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Final

MODES: Final = ("ok", "hang", "big", "reset")
BIG_BYTES: Final = 10 * 1024 * 1024
_CHUNK: Final = 64 * 1024
_HEAD_LIMIT: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class Received:
    """One request the receiver read: path, lower-cased headers, raw body, wall time."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass(slots=True)
class Receiver:
    """An HTTP/1.1 receiver; ``await start()`` binds a free 127.0.0.1 port."""

    mode: str = "ok"
    #: Answer 500 to this many requests first (then behave as ``mode``).
    fail_next: int = 0
    #: Record bodies (turn off for load tests that only count).
    keep_bodies: bool = True
    received: list[Received] = field(default_factory=list)
    count: int = 0
    #: Hashes of the distinct bodies seen (duplicates of one event hash the same).
    distinct: set[int] = field(default_factory=set)
    _server: asyncio.Server | None = None
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def port(self) -> int:
        """The bound port."""
        assert self._server is not None, "receiver not started"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """Where to send webhooks."""
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self, port: int = 0) -> Receiver:
        """Listen on ``127.0.0.1:port`` (0 = a free port)."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port, backlog=1024)
        return self

    async def stop(self) -> None:
        """Close the listener and every open connection (hanging ones too)."""
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Wait (bounded, wall time) until ``count`` requests arrived; the requests so far."""
        deadline = time.monotonic() + timeout
        while self.count < count and time.monotonic() < deadline:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), deadline - time.monotonic())
        return list(self.received)

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > _HEAD_LIMIT:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        path = rest.partition(" ")[0] or "/"
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        if method == "GET" and path == "/_count":
            counts = b'{"count":%d,"distinct":%d}' % (self.count, len(self.distinct))
            return await _respond(writer, 200, counts)
        self.distinct.add(hash(body))
        self._record(Received(path, headers, body if self.keep_bodies else b"", time.time()))
        return await self._answer(writer)

    def _record(self, request: Received) -> None:
        self.received.append(request)
        self.count += 1
        self._arrived.set()

    async def _answer(self, writer: asyncio.StreamWriter) -> bool:
        if self.fail_next > 0:
            self.fail_next -= 1
            return await _respond(writer, 500, b'{"error":"receiver told to fail"}')
        if self.mode == "hang":
            await asyncio.Event().wait()  # until cancelled by stop()
        if self.mode == "reset":
            _reset(writer)
            return False
        if self.mode == "big":
            await _respond_big(writer)
            return False
        return await _respond(writer, 200, b'{"ok":true}')


async def _respond(writer: asyncio.StreamWriter, status: int, body: bytes) -> bool:
    reason = "OK" if status == 200 else "Internal Server Error"
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode("ascii") + body)
    await writer.drain()
    return True


async def _respond_big(writer: asyncio.StreamWriter) -> None:
    writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {BIG_BYTES}\r\n\r\n".encode("ascii"))
    chunk = b"x" * _CHUNK
    for _ in range(BIG_BYTES // _CHUNK):
        writer.write(chunk)
        await writer.drain()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with SO_LINGER 0: the peer sees a TCP reset, not a clean close."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _main(port: int, mode: str) -> None:
    receiver = await Receiver(mode=mode, keep_bodies=False).start(port)
    print(f"receiver on {receiver.url} ({mode})", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await receiver.stop()


def main() -> None:
    """``python -m mock_server.webhooks.receiver [--port N] [--mode ok|hang|big|reset]``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", choices=MODES, default="ok")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args.port, args.mode))


if __name__ == "__main__":
    main()
