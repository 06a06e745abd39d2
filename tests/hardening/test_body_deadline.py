"""The body deadline arms a timer only when a body read could wait (counted, not timed).

The socket test (``test_timeouts.py``) shows a stalled upload answered 408 over uvicorn; these
check the two shortcuts in-process: a message uvicorn already holds is read without a timer,
and a cancellation that is not the deadline's passes through unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mock_server import limits

pytestmark = pytest.mark.anyio


class Cycle:
    """What uvicorn's request cycles have: ``message_event`` and ``receive``."""

    def __init__(self, ready: bool, complete: bool = False) -> None:
        self.message_event = asyncio.Event()
        if ready:
            self.message_event.set()
        if complete:
            self.more_body = False  # uvicorn's mark: the last byte of the body is in

    async def receive(self) -> dict[str, Any]:
        await self.message_event.wait()
        self.message_event.clear()
        return {"type": "http.request", "body": b"{}", "more_body": False}


def timers(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every ``call_later`` delay the running loop is asked for from now on."""
    loop = asyncio.get_running_loop()
    delays: list[float] = []
    real = loop.call_later

    def counting(delay: float, callback: Any, *args: Any) -> asyncio.TimerHandle:
        delays.append(delay)
        return real(delay, callback, *args)

    monkeypatch.setattr(loop, "call_later", counting)
    return delays


async def read_through_deadline(receive: Any, method: str = "POST") -> dict[str, Any]:
    got: list[dict[str, Any]] = []

    async def app(scope: Any, bounded: Any, send: Any) -> None:
        got.append(await bounded())
        got.append({"same": bounded is receive})

    scope = {"type": "http", "method": method}
    await limits.BodyDeadline(app, 30.0)(scope, receive, None)  # type: ignore[arg-type]
    return got[0] | got[1]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_body_uvicorn_already_holds_is_read_without_a_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    delays = timers(monkeypatch)
    message = await read_through_deadline(Cycle(ready=True).receive)
    assert message["body"] == b"{}"
    assert delays == []


async def test_a_whole_body_uvicorn_holds_is_passed_through_untouched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    delays = timers(monkeypatch)
    whole = Cycle(ready=True, complete=True)
    assert (await read_through_deadline(whole.receive))["same"] is True
    partial = Cycle(ready=True)  # the first part is in, more may come: still bounded
    assert (await read_through_deadline(partial.receive))["same"] is False
    assert delays == []


async def test_a_body_still_to_come_is_read_under_the_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    delays = timers(monkeypatch)
    cycle = Cycle(ready=False)
    asyncio.get_running_loop().call_soon(cycle.message_event.set)
    message = await read_through_deadline(cycle.receive)
    assert message["body"] == b"{}"
    assert delays == [30.0]


async def test_an_unknown_server_always_gets_the_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    delays = timers(monkeypatch)

    async def receive() -> dict[str, Any]:  # no cycle behind it
        return {"type": "http.request", "body": b"{}", "more_body": False}

    await read_through_deadline(receive)
    assert delays == [30.0]
    assert limits._ready_event(receive) is None


async def test_a_get_is_passed_through_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    delays = timers(monkeypatch)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    assert (await read_through_deadline(receive, "GET"))["same"] is True
    assert (await read_through_deadline(receive, "POST"))["same"] is False
    assert delays == [30.0]  # only the POST's read was bounded


async def test_another_cancellation_is_not_turned_into_a_408() -> None:
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await never.wait()
        raise AssertionError("unreachable")

    task = asyncio.ensure_future(limits._within(receive, 30.0))
    await asyncio.sleep(0)
    task.cancel()  # e.g. a shutdown
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_deadline_answers_408_when_it_fires() -> None:
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await never.wait()
        raise AssertionError("unreachable")

    with pytest.raises(limits.BodyTimeout, match="--body-timeout"):
        await limits._within(receive, 0.0)  # due at once: no real wait
