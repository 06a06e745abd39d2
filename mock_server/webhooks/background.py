"""The served sender: a background asyncio task in the server's event loop.

It waits until the next due virtual instant (``clock.wall_delay``; on a manual clock, until
woken by ``clock_moved``/``task_created``/``task_changed``), starts at most
``webhook_concurrency`` attempts at once, and on :meth:`Background.stop` cancels the attempts
in flight (their jobs go back to the schedule) and closes its clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import TYPE_CHECKING, Final

from mock_server.domain.clock import NS
from mock_server.webhooks import sender
from mock_server.webhooks.refused_lane import LANE_BATCH
from mock_server.webhooks.schedule import Job
from mock_server.webhooks.shared import POLL_S

if TYPE_CHECKING:
    from mock_server.webhooks.dispatcher import Dispatcher

log = logging.getLogger("piapi_mock.webhooks")

#: Attempts started per turn of the event loop (a burst of due deliveries is paced).
BATCH: Final = 8
#: Wall seconds between turns that only work off the refused lane: its lines carry their
#: own instants, and a reader of the log works it off first, so no hurry (and no wake-up
#: per task).
LANE_TICK: Final = 0.05


class Background:
    """The dispatcher's loop while served; created by :meth:`Dispatcher.start`."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        settings = dispatcher.backend.settings
        self.dispatcher = dispatcher
        self.concurrency = max(1, settings.webhook_concurrency)
        self.loop = asyncio.get_running_loop()
        self.thread = threading.get_ident()
        self.clients = sender.Clients(self.concurrency, settings.webhook_timeout)
        self._wake = asyncio.Event()
        self._settled = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._runner = self.loop.create_task(self._run(), name="piapi-mock-webhooks")

    def poke(self) -> None:
        """Wake the loop (from any thread): it starts what is due, or concludes it if the
        endpoint is refused (which needs no free slot)."""
        if threading.get_ident() == self.thread:
            self._wake.set()
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                self.loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        """Cancel the loop and every attempt in flight; close the clients."""
        tasks = [self._runner, *self._in_flight]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._in_flight.clear()
        await self.clients.aclose()

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is in flight or due now; whether it got there in time."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not self._idle():
                    self._settled.clear()
                    await self._settled.wait()
                return True
        return False

    def _idle(self) -> bool:
        if self._in_flight:
            return False
        self.dispatcher.settle_lane()
        due = self.dispatcher.next_due()
        return due is None or due > self.dispatcher.now()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            free = self.concurrency - len(self._in_flight)
            try:
                more = self.dispatcher.work_lane() >= LANE_BATCH  # refused: needs no slot
                if (free > 0 and self._dispatch(min(free, BATCH))) or more:
                    await asyncio.sleep(0)  # let requests in between batches of new attempts
                    continue
                timeout = self._idle_wait(free)
                if self.dispatcher.shared is not None:  # look for other processes' tasks
                    timeout = POLL_S if timeout is None else min(timeout, POLL_S)
            except Exception:  # a bug must not stop every later delivery
                log.exception("webhook sender step failed")
                timeout = 1.0
            with contextlib.suppress(TimeoutError):
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation
                # when the event is set at the same moment, and stop() would then hang.
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    def _dispatch(self, free: int) -> bool:
        """Start up to ``free`` attempts due now; whether any started."""
        jobs = self.dispatcher.take(free)
        for job in jobs:
            if self.dispatcher.conclude_refused(job) is not None:
                continue  # refused by the policy: concluded now, nothing to send
            task = self.loop.create_task(self._attempt(job))
            self._in_flight.add(task)
            task.add_done_callback(self._finished)
        return bool(jobs)

    async def _attempt(self, job: Job) -> None:
        await self.dispatcher.attempt(self.clients, job)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._settled.set()
        self.poke()

    def _idle_wait(self, free: int) -> float | None:
        """Wall seconds until the next attempt is due, or the lane's next turn (at least
        :data:`LANE_TICK` away); None: wait to be woken."""
        sending = self._wall_until(self.dispatcher.sending_due()) if free > 0 else None
        lane = self._wall_until(self.dispatcher.lane_due())
        if lane is not None:
            lane = max(lane, LANE_TICK)
        if sending is None or lane is None:
            return lane if sending is None else sending
        return min(sending, lane)

    def _wall_until(self, due: int | None) -> float | None:
        if due is None:
            return None
        ahead = (due - self.dispatcher.now()) / NS
        return 0.0 if ahead <= 0 else self.dispatcher.backend.clock.wall_delay(ahead)
