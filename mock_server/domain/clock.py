"""Virtual time. Everything in the domain reads time from a :class:`Clock`, in nanoseconds.

``SystemClock`` follows the wall clock at a speed factor (``serve --speed``); ``ManualClock``
moves only when told to (tests). Both can be advanced by the control plane.
"""

from __future__ import annotations

import time
from typing import Final, Protocol

NS: Final = 1_000_000_000
#: 2026-02-07T02:31:17Z, the instant of the seed's example: where manual clocks start.
DEFAULT_EPOCH_NS: Final = 1_770_431_477 * NS
#: Bounds of every clock move (issue #11): one request can never push time where timestamps
#: stop rendering (RFC 3339 ends at year 9999; a task may end centuries after it starts).
MIN_SPEED: Final = 0.001
MAX_SPEED: Final = 100_000.0
#: One advance moves at most 100 (Julian) years.
MAX_ADVANCE_S: Final = 3_155_760_000.0
#: 9000-01-01T00:00:00Z: no advance may take the clock past it.
LATEST_NS: Final = 221_845_392_000 * NS


def check_advance(now_ns: int, seconds: float) -> None:
    """``ValueError`` unless ``seconds`` is a finite move in 0..MAX_ADVANCE_S staying before
    :data:`LATEST_NS`."""
    if not 0 <= seconds <= MAX_ADVANCE_S:  # NaN fails both comparisons
        raise ValueError(f"must be between 0 and {MAX_ADVANCE_S:.0f} seconds (100 years)")
    if now_ns + to_ns(seconds) > LATEST_NS:
        raise ValueError("would move the clock past 9000-01-01T00:00:00Z, the latest instant")


def check_speed(speed: float) -> None:
    """``ValueError`` unless ``MIN_SPEED <= speed <= MAX_SPEED``."""
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise ValueError(f"speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}")


def to_ns(seconds: float) -> int:
    """Seconds (float) to integer nanoseconds."""
    return round(seconds * NS)


class Clock(Protocol):
    """A source of virtual time."""

    @property
    def speed(self) -> float:
        """Virtual seconds per wall second (0 for a manual clock)."""
        ...

    def now(self) -> int:
        """Virtual Unix time in nanoseconds."""
        ...

    def advance(self, seconds: float) -> None:
        """Jump virtual time forward by ``seconds``."""
        ...

    def set_speed(self, speed: float) -> None:
        """Change the speed factor from now on."""
        ...

    def wall_delay(self, virtual_seconds: float) -> float | None:
        """Wall seconds until ``virtual_seconds`` from now pass, or None if time does not flow."""
        ...


class ManualClock:
    """A clock that moves only by :meth:`advance` or :meth:`set`; tests never sleep."""

    def __init__(self, start_ns: int = DEFAULT_EPOCH_NS) -> None:
        self._now = start_ns

    @property
    def speed(self) -> float:
        return 0.0

    def now(self) -> int:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        check_advance(self._now, seconds)
        self._now += to_ns(seconds)

    def set(self, now_ns: int) -> None:
        """Jump to an absolute instant (not backwards, not past :data:`LATEST_NS`)."""
        if now_ns < self._now:
            raise ValueError("time only moves forward")
        if now_ns > LATEST_NS:
            raise ValueError("would move the clock past 9000-01-01T00:00:00Z, the latest instant")
        self._now = now_ns

    def set_speed(self, speed: float) -> None:
        raise ValueError("a manual clock has no speed; advance it instead")

    def wall_delay(self, virtual_seconds: float) -> float | None:
        return None


class SystemClock:
    """Wall time scaled by ``speed`` from a start instant, plus whatever was advanced."""

    def __init__(self, speed: float = 1.0, start_ns: int | None = None) -> None:
        check_speed(speed)
        self._speed = speed
        self._origin_virtual = time.time_ns() if start_ns is None else start_ns
        self._origin_wall = time.monotonic_ns()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> int:
        elapsed = time.monotonic_ns() - self._origin_wall
        return self._origin_virtual + int(elapsed * self._speed)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        check_advance(self.now(), seconds)
        self._origin_virtual += to_ns(seconds)

    def rewind(self) -> None:
        """Back to the wall clock's time at the current speed (reset, once past the range)."""
        self._origin_virtual, self._origin_wall = time.time_ns(), time.monotonic_ns()

    def set_speed(self, speed: float) -> None:
        check_speed(speed)
        now = self.now()
        self._origin_virtual, self._origin_wall, self._speed = now, time.monotonic_ns(), speed

    def wall_delay(self, virtual_seconds: float) -> float | None:
        return max(0.0, virtual_seconds / self._speed)
