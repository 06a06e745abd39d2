"""Drive a backend on a manual clock: advance time and deliver what falls due, until idle.

Used by the in-process fixture (on its private event loop) and by the session server (on the
server's own loop), so both behave the same: :func:`advance` stops at every task transition
and webhook due on the way, and :func:`settle` goes on until nothing is left to happen.
"""

from __future__ import annotations

import contextlib
from typing import Final

from mock_server.domain import lifecycle
from mock_server.domain.backend import Backend
from mock_server.domain.clock import NS
from mock_server.webhooks import Dispatcher, dispatcher_of

#: A guard against schedules that never run dry (a bug elsewhere, not a long test).
MAX_STEPS: Final = 10_000
#: How long (wall seconds) :func:`settle` waits for a served dispatcher's attempts in flight.
IN_FLIGHT_TIMEOUT: Final = 10.0


def next_event(backend: Backend) -> int | None:
    """The next instant after now at which a task changes or a webhook falls due."""
    now = backend.clock.now()
    instants = [t for r in backend.records() for t, _ in lifecycle.transitions(r) if t > now]
    due = dispatcher_of(backend).next_due()
    if due is not None:
        instants.append(max(due, now + 1))
    return min(instants, default=None)


async def deliver_due(backend: Backend) -> None:
    """Attempt every webhook delivery due now (retries due now included).

    On a served backend, first wait for the attempts its background sender has in flight, so
    their retries are scheduled before time moves on.
    """
    dispatcher = dispatcher_of(backend)
    await _in_flight(dispatcher)
    due = dispatcher.next_due()
    if due is not None and due <= backend.clock.now():
        await dispatcher.run_until_idle()


async def advance(backend: Backend, seconds: float) -> None:
    """Move the clock forward by ``seconds``, stopping at every event on the way."""
    target = backend.clock.now() + round(seconds * NS)
    await deliver_due(backend)
    for _ in range(MAX_STEPS):
        due = next_event(backend)
        step_to = target if due is None else min(due, target)
        if step_to > backend.clock.now():
            backend.advance((step_to - backend.clock.now()) / NS)
        await deliver_due(backend)
        if backend.clock.now() >= target:
            return
    raise RuntimeError(f"advance did not reach its target within {MAX_STEPS} steps")


async def settle(backend: Backend) -> None:
    """Advance to each next event until no task or delivery is left to happen.

    A stuck task (it never ends) and a task waiting for a slot that never frees do not count.
    """
    await deliver_due(backend)
    for _ in range(MAX_STEPS):
        due = next_event(backend)
        if due is None:
            return
        backend.advance(max(due - backend.clock.now(), 1) / NS)
        await deliver_due(backend)
    raise RuntimeError(f"the fake did not settle within {MAX_STEPS} steps")


async def _in_flight(dispatcher: Dispatcher) -> None:
    """Served: wait until the background sender has nothing in flight (in-process: no-op)."""
    with contextlib.suppress(RuntimeError):  # in-process: no background sender
        await dispatcher.wait_idle(IN_FLIGHT_TIMEOUT)
