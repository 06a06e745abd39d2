"""How long a task waits and renders, drawn from a seeded random source.

Calibrated on PiAPI's examples: pending 0.2-0.9 s; a 3 s 720p omni render ~80 s, o1 5 s
~83 s, a 5 s 720p render ~110 s. More seconds, 1080p and audio take longer; +-8% jitter.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from mock_server.domain.clock import to_ns
from mock_server.domain.pricing import billed_seconds

BASE_SECONDS: Final = 72.0
PER_OUTPUT_SECOND: Final = 3.0
HD_FACTOR: Final = 1.15
AUDIO_FACTOR: Final = 1.10
JITTER: Final = 0.08


@dataclass(frozen=True, slots=True)
class Timing:
    """Pending and processing durations, in nanoseconds."""

    pending_ns: int
    run_ns: int


def nominal_run_seconds(task_input: Mapping[str, Any]) -> float:
    """Render time without jitter."""
    seconds = BASE_SECONDS + PER_OUTPUT_SECOND * billed_seconds(task_input)
    if task_input.get("resolution") == "1080p":
        seconds *= HD_FACTOR
    if task_input.get("enable_audio"):
        seconds *= AUDIO_FACTOR
    return seconds


def draw(rng: random.Random, task_input: Mapping[str, Any]) -> Timing:
    """A seeded timing for ``task_input``."""
    pending = rng.uniform(0.3, 1.0)
    run = nominal_run_seconds(task_input) * rng.uniform(1 - JITTER, 1 + JITTER)
    return Timing(to_ns(pending), to_ns(run))
