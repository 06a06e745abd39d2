"""Reading the headers the fake acts on, one rule for every layer (auth, faults, scenarios).

- A header the fake acts on (``x-api-key``, ``X-Mock-Fault``, ``X-Mock-Scenario``) sent more
  than once is refused with 400 naming it: auth and fault rules must never read two different
  keys from one request (a guess: PiAPI's Go server would take the first).
- Values are decoded as UTF-8 when they are valid UTF-8 (so a non-ASCII ``--api-key`` matches
  the same key sent by any client), else as Latin-1 (what Starlette does), so no byte string
  is lost or raises.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from mock_server.domain.errors import PiapiError

API_KEY: Final = b"x-api-key"
FAULT: Final = b"x-mock-fault"
SCENARIO: Final = b"x-mock-scenario"
#: How each header is named in messages.
LABELS: Final = {API_KEY: "x-api-key", FAULT: "X-Mock-Fault", SCENARIO: "X-Mock-Scenario"}


class RepeatedHeader(PiapiError):
    """A header the fake acts on was sent more than once (HTTP 400)."""

    status = 400


def decode(value: bytes) -> str:
    """UTF-8 if it is valid UTF-8, else Latin-1 (never raises)."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def read(headers: Iterable[tuple[bytes, bytes]], *names: bytes) -> dict[bytes, str]:
    """The values of ``names`` (lower-case) present in ``headers``; 400 if one is repeated."""
    found: dict[bytes, str] = {}
    for name, value in headers:
        if name in names:
            if name in found:
                label = LABELS.get(name, name.decode("latin-1"))
                raise RepeatedHeader(
                    f"invalid request: header {label} was sent more than once; send it once"
                )
            found[name] = decode(value)
    return found


def api_key(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The ``x-api-key`` value (None if absent); 400 if repeated."""
    return read(headers, API_KEY).get(API_KEY)
