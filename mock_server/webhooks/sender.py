"""One webhook attempt over HTTP: bounded in time and in what it reads.

The answer's status is all that matters; at most :data:`RESPONSE_CAP` bytes of the body are
read, then the connection is dropped, so a receiver answering 10 MB, hanging or resetting
costs one bounded attempt. Redirects are not followed (a 3xx counts as a failure).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Final

import certifi
import httpx

from mock_server.webhooks.policy import AllowList

RESPONSE_CAP: Final = 16 * 1024


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt got: a status, or an error; and whether trying again may help."""

    status: int | None
    error: str
    latency_ms: float
    retryable: bool

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return self.status is not None and 200 <= self.status < 300


def refusal(url: str, allow: tuple[str, ...], listening: Iterable[tuple[str, int]] = ()) -> str:
    """Why ``url`` may not be called ("" if it may); see :mod:`mock_server.webhooks.policy`."""
    return AllowList(allow).refusal(url, listening)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client (loading the CA bundle takes tens of ms)."""
    return ssl.create_default_context(cafile=certifi.where())


def new_client(connections: int, timeout: float) -> httpx.AsyncClient:
    """One client: no proxies from the environment, no redirects, pooled."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        limits=limits,
        trust_env=False,
        follow_redirects=False,
        verify=_tls(),
    )


class Clients:
    """Small httpx clients sharing the attempts; each attempt leases the least busy one.

    httpcore's pool does work proportional to connections x waiting requests on every event;
    several pools of :data:`PER_CLIENT` connections beat one large pool (measured: 1,000
    deliveries take about a third of the wall time of one 32-connection pool).
    """

    PER_CLIENT: Final = 4

    def __init__(self, concurrency: int, timeout: float) -> None:
        count = max(1, -(-concurrency // self.PER_CLIENT))
        per_client = max(1, -(-concurrency // count))
        self._clients = [new_client(per_client, timeout) for _ in range(count)]
        self._active = [0] * count

    @contextlib.asynccontextmanager
    async def lease(self) -> AsyncIterator[httpx.AsyncClient]:
        """The least busy client, for one attempt."""
        index = min(range(len(self._clients)), key=self._active.__getitem__)
        self._active[index] += 1
        try:
            yield self._clients[index]
        finally:
            self._active[index] -= 1

    async def aclose(self) -> None:
        """Close every client."""
        for client in self._clients:
            await client.aclose()

    async def __aenter__(self) -> Clients:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def post(
    clients: Clients, url: str, body: bytes, headers: dict[str, str], timeout: float
) -> Outcome:
    """POST ``body`` to ``url`` within ``timeout`` wall seconds in all."""
    started = time.perf_counter()
    status: int | None = None
    error, retryable = "", True
    try:
        async with (
            asyncio.timeout(timeout),
            clients.lease() as client,
            client.stream("POST", url, content=body, headers=headers) as response,
        ):
            status = response.status_code
            await _read_capped(response)
    except (TimeoutError, httpx.TimeoutException):
        error = f"timeout after {timeout:g} s"
    except httpx.UnsupportedProtocol as exc:
        error, retryable = f"unsupported URL: {exc}", False
    except httpx.TransportError as exc:
        error = f"{type(exc).__name__}: {exc}".rstrip(": ")
    except (httpx.InvalidURL, ValueError) as exc:
        error, retryable = f"invalid URL: {exc}", False
    latency = (time.perf_counter() - started) * 1000
    if status is not None:  # the status arrived; a body cut short does not matter
        error = "" if 200 <= status < 300 else f"HTTP {status}"
    return Outcome(status, error, latency, retryable)


async def _read_capped(response: httpx.Response) -> None:
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read >= RESPONSE_CAP:
            return
