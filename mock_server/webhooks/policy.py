"""Where webhooks may go: offline by default, ``host[:port]`` allow-lists, never the fake itself.

- No ``--webhook-allow``: only loopback and private networks, given as IP literals
  (``127.0.0.0/8``, ``::1``, ``10/8``, ``172.16/12``, ``192.168/16``, ``fc00::/7``, link-local)
  and ``localhost``. Other names are not resolved (a DNS query would already leave the machine)
  and are refused, with the flag that would allow them in the message.
- ``--webhook-allow`` entries replace that default: ``host``, ``host:port``, ``[v6]:port``,
  or ``*`` for every host.
- The fake's own listening address (any loopback or unspecified alias, or an address it was
  reached on, with its port) is refused unless an entry names that host *and* port, so a
  task's webhook cannot drive the control plane of the fake that sends it (``/_mock/reset``).

Deviation: PiAPI delivers to any public URL; offline-by-default is the fake's choice (a guess
about what a test fake should do), and the refusals are logged, never silent.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from mock_server.schema_registry import Violation

ANY: Final = "*"
DEFAULT_PORTS: Final = {"http": 80, "https": 443}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_HEADER_SAFE: Final = re.compile(r"[\x20-\x7e]*")
#: A deliverable endpoint, the one rule for the create check and the OpenAPI document:
#: http(s), optional userinfo, a host name or IPv4 address (IPv6 literals are refused: a guess
#: kept simple; ``localhost`` reaches ::1), a port 1-65535, then printable ASCII.
_PORT: Final = (
    r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
)
ENDPOINT_PATTERN: Final = (
    r"^https?://(?:[A-Za-z0-9._~%!$&'()*+,;=:-]*@)?"
    r"[A-Za-z0-9._~%!$&'()*+,;=-]+"
    rf"(?::{_PORT})?(?:[/?#][!-~]*)?$"
)
_ENDPOINT: Final = re.compile(ENDPOINT_PATTERN)


@dataclass(frozen=True, slots=True)
class Entry:
    """One allow-list entry: a lower-cased host (``*`` for any) and an optional port."""

    host: str
    port: int | None = None

    def matches(self, host: str, port: int) -> bool:
        """Whether ``host:port`` is allowed by this entry."""
        return (self.host == ANY or self.host == host) and self.port in {None, port}

    def names(self, host: str, port: int) -> bool:
        """Whether this entry names exactly ``host`` and ``port`` (needed for the fake itself)."""
        return self.host == host and self.port == port


def parse_entry(text: str) -> Entry:
    """``host``, ``host:port``, ``[v6]``, ``[v6]:port``, a bare IPv6 literal or ``*``."""
    raw = text.strip().lower()
    if not raw:
        raise ValueError("--webhook-allow: empty entry")
    if raw == ANY:
        return Entry(ANY)
    if raw.startswith("["):
        host, _, rest = raw[1:].partition("]")
        return Entry(host, _port(rest.removeprefix(":"), text) if rest else None)
    if raw.count(":") > 1:  # a bare IPv6 literal
        return Entry(raw)
    host, colon, port = raw.partition(":")
    if not host:
        raise ValueError(f"--webhook-allow {text!r}: a host is required")
    return Entry(host, _port(port, text) if colon else None)


def _port(text: str, entry: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        raise ValueError(f"--webhook-allow {entry!r}: the port must be 1-65535")
    return int(text)


def _ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_local_network(host: str) -> bool:
    """Loopback, private or link-local IP literal, or ``localhost``."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    ip = _ip(host)
    return ip is not None and (ip.is_loopback or ip.is_private or ip.is_link_local)


def _is_self_alias(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    ip = _ip(host)
    return ip is not None and (ip.is_loopback or ip.is_unspecified)


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed endpoint: scheme, lower-cased host and the port it would connect to."""

    scheme: str
    host: str
    port: int


def target_of(url: str) -> Target | str:
    """The endpoint's target, or why it is not a deliverable http(s) URL."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError as exc:
        return f"invalid webhook endpoint {url!r}: an http(s) URL with a host is required ({exc})"
    if parts.scheme not in DEFAULT_PORTS or not host:
        return f"invalid webhook endpoint {url!r}: an http(s) URL with a host is required"
    if port == 0:
        return f"invalid webhook endpoint {url!r}: port 0"
    return Target(parts.scheme, host, port or DEFAULT_PORTS[parts.scheme])


class AllowList:
    """The delivery policy of one server (``--webhook-allow``)."""

    def __init__(self, entries: Iterable[str] = ()) -> None:
        self.texts = tuple(entries)
        self.entries = tuple(parse_entry(text) for text in self.texts)

    def refusal(self, url: str, listening: Iterable[tuple[str, int]] = ()) -> str:
        """Why ``url`` may not be called ("" if it may)."""
        target = target_of(url)
        if isinstance(target, str):
            return target
        host, port = target.host, target.port
        if self._is_self(host, port, listening):
            if any(e.names(host, port) for e in self.entries):
                return ""
            return (
                f"host {host!r} port {port} is this fake's own address (it would drive its own "
                f"control plane); allow it explicitly with --webhook-allow {_hostport(host, port)}"
            )
        if self.entries:
            if any(e.matches(host, port) for e in self.entries):
                return ""
            return (
                f"host {host!r} is not allowed (--webhook-allow {' '.join(self.texts)}); "
                f"add --webhook-allow {_hostport(host, port)}"
            )
        if is_local_network(host):
            return ""
        return (
            f"host {host!r} is outside loopback and private networks (offline by default); "
            f"allow it with --webhook-allow {host} (or --webhook-allow '*')"
        )

    @staticmethod
    def _is_self(host: str, port: int, listening: Iterable[tuple[str, int]]) -> bool:
        for bound_host, bound_port in listening:
            if bound_port != port:
                continue
            bound = bound_host.lower().strip("[]")
            if host == bound or _is_self_alias(host):
                return True
            bound_ip = _ip(bound)
            if bound_ip is not None and bound_ip.is_unspecified and is_local_network(host):
                return True
        return False


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


#: Why undeliverable configs are refused at create (a guess: PiAPI documents no such check).
CONFIG_GUESS: Final = (
    "guess: refused at create because it could never be delivered; PiAPI documents no rule"
)


def config_violations(body: object) -> list[Violation]:
    """Problems of a contract-valid body's webhook config that make delivery impossible: an
    endpoint without a usable host and port, or a secret that cannot be a header value
    (CR, LF, NUL, other controls, non-ASCII)."""
    config = body.get("config") if isinstance(body, dict) else None
    hook = config.get("webhook_config") if isinstance(config, dict) else None
    if not isinstance(hook, dict):
        return []
    found: list[Violation] = []
    endpoint, secret = hook.get("endpoint"), hook.get("secret")
    if isinstance(endpoint, str) and endpoint and not _ENDPOINT.fullmatch(endpoint):
        found.append(
            Violation(
                "/config/webhook_config/endpoint",
                "deliverable",
                f"{endpoint!r} is not a deliverable http(s) URL: a host, a port 1-65535, "
                f"printable ASCII ({CONFIG_GUESS})",
            )
        )
    if isinstance(secret, str) and not _HEADER_SAFE.fullmatch(secret):
        found.append(
            Violation(
                "/config/webhook_config/secret",
                "header-safe",
                "must be printable ASCII (no CR, LF, NUL or other control characters, no "
                f"non-ASCII): it is sent as the x-webhook-secret header ({CONFIG_GUESS})",
            )
        )
    return found
