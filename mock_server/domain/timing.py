"""How long a task waits and renders: the pack's timing model, drawn from a seeded source.

Each pack (or variant) says its model; omni's is calibrated on PiAPI's examples: pending
0.2-0.9 s, a 3 s 720p render ~80 s, o1 5 s ~83 s, a 5 s 720p render ~110 s; more seconds,
1080p and audio take longer; +-8% jitter.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mock_server.packs import Pack


@dataclass(frozen=True, slots=True)
class Timing:
    """Pending and processing durations, in nanoseconds."""

    pending_ns: int
    run_ns: int


def nominal_run_seconds(pack: Pack, task_input: Mapping[str, Any]) -> float:
    """Render time without jitter."""
    variant = pack.variant(task_input)
    model = pack.timing_for(variant)
    return model.nominal(pack.values(task_input), pack.seconds(task_input))


def draw(rng: random.Random, pack: Pack, task_input: Mapping[str, Any]) -> Timing:
    """A seeded timing for ``task_input`` (two draws from ``rng``), as ``create`` draws it."""
    return Timing(*pack.decide(task_input).draw(rng))
