"""Opt-in, seeded delivery chaos the real world shows: duplicates, delays, reordering.

Every share defaults to 0; with all of them 0 no random number is drawn, so chaos off changes
nothing. The generator is seeded from ``--seed`` and separate from the backend's, so turning
chaos on never changes task ids or timings.
"""

from __future__ import annotations

import random

from mock_server.domain.clock import to_ns
from mock_server.settings import Settings


class Chaos:
    """Seeded decisions, each taken with the share its setting gives."""

    def __init__(self, settings: Settings) -> None:
        self.duplicate_share = settings.webhook_chaos_duplicate
        self.delay_share = settings.webhook_chaos_delay
        self.max_delay = settings.webhook_chaos_max_delay
        self.reorder_share = settings.webhook_chaos_reorder
        self.rng = random.Random(f"piapi-mock-webhooks:{settings.seed}")

    def _hit(self, share: float) -> bool:
        return share > 0 and self.rng.random() < share

    def delay_ns(self) -> int:
        """Extra virtual delay before an event's first attempt (0 unless chosen)."""
        if not self._hit(self.delay_share):
            return 0
        return to_ns(self.rng.uniform(0.0, self.max_delay))

    def reorder(self) -> bool:
        """Whether to hold an event back behind the task's next one."""
        return self._hit(self.reorder_share)

    def duplicate(self) -> bool:
        """Whether to send a delivered event once more."""
        return self._hit(self.duplicate_share)
