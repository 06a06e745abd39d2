"""No network in tests that use the fake: ``requests`` is answered in-process, sockets stay local.

While a ``piapi_mock`` fixture is active:

- ``requests`` calls to the fake's base URL are answered by the in-process app (a transport
  adapter function replaces ``HTTPAdapter.send``); loopback URLs go through unchanged; any
  other URL raises ``requests.ConnectionError`` naming the URL;
- a socket ``connect`` or a name lookup to anything but loopback raises ``OSError``, so no
  client (urllib, raw sockets, another HTTP library) can reach the network either.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any, Final

import pytest

LOCAL_NAMES: Final = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_local_host(host: object) -> bool:
    """Loopback (or unspecified) address literals and ``localhost``."""
    if not isinstance(host, str):
        return False
    name = host.strip("[]").lower()
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


class NetworkBlocked(OSError):
    """A test using the fake tried to reach the network."""


def _refuse(what: str) -> NetworkBlocked:
    return NetworkBlocked(
        f"piapi-mock: {what} refused: a test using the piapi_mock fixture cannot reach the "
        "network (only the fake's base URL and loopback addresses)"
    )


def block_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse connects and lookups of non-loopback hosts for the rest of the test."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def allowed(sock: socket.socket, address: Any) -> bool:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return True  # unix sockets and the like stay on the machine
        return isinstance(address, tuple) and is_local_host(address[0])

    def connect(sock: socket.socket, address: Any) -> None:
        if not allowed(sock, address):
            raise _refuse(f"connect to {address!r}")
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        if not allowed(sock, address):
            raise _refuse(f"connect to {address!r}")
        return real_connect_ex(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not is_local_host(host if isinstance(host, str) else ""):
            raise _refuse(f"name lookup of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def route_requests(
    monkeypatch: pytest.MonkeyPatch,
    base_url: str,
    answer: Callable[[str, str, dict[str, str], bytes], tuple[int, list[tuple[str, str]], bytes]],
) -> None:
    """Answer ``requests`` calls to ``base_url`` with ``answer(method, url, headers, body)``."""
    try:
        import requests
        from requests.adapters import HTTPAdapter
        from requests.structures import CaseInsensitiveDict
    except ImportError:  # requests is not installed: nothing to route
        return
    real_send = HTTPAdapter.send
    origin = base_url.rstrip("/")

    def send(adapter: HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
        url = str(request.url)
        if url == origin or url.startswith((origin + "/", origin + "?")):
            body = request.body or b""
            if isinstance(body, str):
                body = body.encode("utf-8")
            status, headers, content = answer(request.method, url, dict(request.headers), body)
            response = requests.Response()
            response.status_code = status
            response.headers = CaseInsensitiveDict(headers)
            response._content = content
            response.url = url
            response.request = request
            response.encoding = requests.utils.get_encoding_from_headers(response.headers)
            response.reason = ""
            return response
        from urllib.parse import urlsplit

        if is_local_host(urlsplit(url).hostname or ""):
            return real_send(adapter, request, *args, **kwargs)
        raise requests.ConnectionError(_refuse(f"requests to {url}"), request=request)

    monkeypatch.setattr(HTTPAdapter, "send", send)
