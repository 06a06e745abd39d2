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
        self._now += to_ns(seconds)

    def set(self, now_ns: int) -> None:
        """Jump to an absolute instant (not backwards)."""
        if now_ns < self._now:
            raise ValueError("time only moves forward")
        self._now = now_ns

    def set_speed(self, speed: float) -> None:
        raise ValueError("a manual clock has no speed; advance it instead")

    def wall_delay(self, virtual_seconds: float) -> float | None:
        return None


class SystemClock:
    """Wall time scaled by ``speed`` from a start instant, plus whatever was advanced."""

    def __init__(self, speed: float = 1.0, start_ns: int | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
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
        self._origin_virtual += to_ns(seconds)

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        now = self.now()
        self._origin_virtual, self._origin_wall, self._speed = now, time.monotonic_ns(), speed

    def wall_delay(self, virtual_seconds: float) -> float | None:
        return max(0.0, virtual_seconds / self._speed)
