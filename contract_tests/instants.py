"""RFC 3339 timestamps as PiAPI writes them (Go's RFC3339Nano), to nanoseconds and back."""

from __future__ import annotations

import calendar
import re
import time
from typing import Final

ZERO_TIME: Final = "0001-01-01T00:00:00Z"
NS: Final = 1_000_000_000
_RFC3339: Final = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$"
)


def parse(text: str) -> int | None:
    """Unix nanoseconds of ``text``; None for Go's zero time or a malformed value."""
    if text == ZERO_TIME:
        return None
    match = _RFC3339.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        base = calendar.timegm(
            (int(year), int(month), int(day), int(hour), int(minute), int(second), 0, 0, 0)
        )
    except (ValueError, OverflowError):
        return None
    offset = 0
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    nanos = int((fraction or "0").ljust(9, "0"))
    return (base - offset) * NS + nanos


def format_ns(ns: int) -> str:
    """Go's RFC3339Nano in UTC: up to nine fractional digits, trailing zeros trimmed."""
    whole, fraction = divmod(ns, NS)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    if fraction:
        text += "." + f"{fraction:09d}".rstrip("0")
    return text + "Z"
