"""Webhooks over a shared store, in-process: two backends (as two processes would be) each
with its own dispatcher, one real Redis, one real loopback receiver. Each event is sent once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest

from mock_server.domain.backend import Backend
from mock_server.settings import Settings
from mock_server.webhooks import Dispatcher, dispatcher_of
from mock_server.webhooks.receiver import Receiver
from tests.conftest import seed_request

pytestmark = [pytest.mark.anyio, pytest.mark.socket]

FROZEN = 1e-9


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hooks = await Receiver().start()
    try:
        yield hooks
    finally:
        await hooks.stop()


@pytest.fixture
def pair(redis_url: str) -> Iterator[tuple[Backend, Backend]]:
    settings = Settings(store=redis_url, speed=FROZEN)
    a, b = Backend(settings), Backend(settings)
    yield a, b
    a.store.close()
    b.store.close()


async def settle(*dispatchers: Dispatcher) -> None:
    """Let every dispatcher find new tasks and send what is due, until none sends more."""
    for _ in range(20):
        sent = 0
        for dispatcher in dispatchers:
            assert dispatcher.shared is not None
            with dispatcher._lock:
                dispatcher.shared.discover(dispatcher.schedule, force=True)
            sent += len(await dispatcher.run_until_idle())
        if not sent:
            return
    raise AssertionError("dispatchers never went idle")


def hooked(url: str) -> dict[str, object]:
    body = seed_request()
    body["config"]["webhook_config"] = {"endpoint": url, "secret": ""}
    return body


def statuses(receiver: Receiver) -> list[tuple[str, str]]:
    found = [json.loads(r.body)["data"] for r in receiver.received]
    return sorted((d["task_id"], d["status"]) for d in found)


async def test_each_event_is_sent_once_by_one_of_two_processes(
    pair: tuple[Backend, Backend], receiver: Receiver
) -> None:
    a, b = pair
    hooks = dispatcher_of(a), dispatcher_of(b)
    tasks = [a.create("k", hooked(receiver.url), "x").task_id for _ in range(2)]
    tasks.append(b.create("k", hooked(receiver.url), "x").task_id)
    await settle(*hooks)
    a.advance(10_000)
    await settle(*hooks)
    want = sorted((t, s) for t in tasks for s in ("pending", "processing", "completed"))
    assert statuses(receiver) == want
    assert receiver.count == len(receiver.distinct) == 9
    len(hooks[1].log)  # each process's reads flush its own lines (written behind)
    assert len(hooks[0].log) == len(hooks[1].log) == 9  # one shared delivery log


async def test_a_cancel_elsewhere_is_told_once(
    pair: tuple[Backend, Backend], receiver: Receiver
) -> None:
    a, b = pair
    hooks = dispatcher_of(a), dispatcher_of(b)
    task_id = a.create("k", hooked(receiver.url), "x").task_id
    await settle(*hooks)
    b.cancel("k", task_id)
    a.advance(10_000)
    await settle(*hooks)
    assert statuses(receiver) == [(task_id, "failed"), (task_id, "pending")]


async def test_without_the_claim_events_would_be_sent_twice(
    pair: tuple[Backend, Backend], receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exactly-once check bites: a store whose claim always wins sends duplicates."""
    a, b = pair
    for backend in (a, b):
        monkeypatch.setattr(backend.store, "claim", lambda key, holder: True)
    hooks = dispatcher_of(a), dispatcher_of(b)
    a.create("k", hooked(receiver.url), "x")
    await settle(*hooks)
    assert receiver.count == 2
    assert len(receiver.distinct) == 1


async def settle_as_served(*dispatchers: Dispatcher, skip_refused: bool = True) -> None:
    """``settle``, finding other processes' tasks as ``take`` does (refused ones left)."""
    for _ in range(20):
        made = 0
        for dispatcher in dispatchers:
            assert dispatcher.shared is not None
            refused = dispatcher.refusal if skip_refused else None
            with dispatcher._lock:
                dispatcher.shared.discover(dispatcher.schedule, force=True, refused=refused)
            made += len(await dispatcher.run_until_idle())
        if not made:
            return
    raise AssertionError("dispatchers never went idle")


def refused_run(pair: tuple[Backend, Backend]) -> tuple[list[str], tuple[Dispatcher, ...]]:
    a, b = pair
    hooks = dispatcher_of(a), dispatcher_of(b)
    # the seed's endpoint (webhook.site) is refused: offline by default
    tasks = [a.create("k", seed_request(), "x").task_id for _ in range(2)]
    tasks.append(b.create("k", seed_request(), "x").task_id)
    return tasks, hooks


async def test_a_refused_event_is_logged_once_by_the_process_that_created_it(
    pair: tuple[Backend, Backend],
) -> None:
    tasks, hooks = refused_run(pair)
    await settle_as_served(*hooks)
    pair[0].advance(10_000)
    pair[1].sync()  # served, B re-reads the shared clock within 50 ms
    await settle_as_served(*hooks)
    len(hooks[1].log)  # B's reads flush B's lines (written behind, a few ms late otherwise)
    log = list(hooks[0].log)
    assert sorted((e.task_id, e.event) for e in log) == sorted(
        (t, s) for t in tasks for s in ("pending", "processing", "completed")
    )
    assert all(e.error.startswith("host 'webhook.site'") for e in log)
    assert not hooks[1].schedule.knows(tasks[0])  # B never planned A's refused task
    assert not hooks[0].schedule.knows(tasks[2])


async def test_the_refused_check_catches_every_process_logging_them(
    pair: tuple[Backend, Backend],
) -> None:
    for backend in pair:  # broken: refused tasks are listed for every process, and planned
        dispatcher_of(backend)
        backend.hook_refusal = None
    _, hooks = refused_run(pair)
    await settle_as_served(*hooks, skip_refused=False)
    pair[0].advance(10_000)
    pair[1].sync()
    await settle_as_served(*hooks, skip_refused=False)
    len(hooks[1].log)
    assert len(hooks[0].log) == 18  # each event logged by both processes


def listed(pair: tuple[Backend, Backend], receiver: Receiver) -> list[str]:
    """A creates a task to the receiver and one to the refused seed endpoint: which does the
    store list for other processes' senders?"""
    a, _ = pair
    kept = a.create("k", hooked(receiver.url), "x").task_id
    a.create("k", seed_request(), "x")
    return [record.task_id for record in a.store.scan(None, 100, hooks=True)[0]] + [kept]


async def test_a_refused_task_is_not_listed_for_other_processes(
    pair: tuple[Backend, Backend], receiver: Receiver
) -> None:
    dispatcher_of(pair[0])
    *found, kept = listed(pair, receiver)
    assert found == [kept]


async def test_the_listing_check_catches_a_refused_task_listed(
    pair: tuple[Backend, Backend], receiver: Receiver
) -> None:
    dispatcher_of(pair[0])
    pair[0].hook_refusal = None  # broken: every task with a webhook listed
    *found, kept = listed(pair, receiver)
    assert len(found) == 2
    assert kept in found


async def check_one_redelivery(a: Backend, b: Backend, receiver: Receiver) -> None:
    """A redelivery asked of ``a`` reaches the receiver once, whichever process sends it."""
    hooks = dispatcher_of(a), dispatcher_of(b)
    task_id = a.create("k", hooked(receiver.url), "x").task_id
    a.advance(10_000)
    await settle(*hooks)
    before = receiver.count
    queued = hooks[0].redeliver(task_id, "completed")
    assert [e.status.value for e in queued] == ["completed"]
    b.sync()  # served, b re-reads the shared clock within 50 ms: the request is due there too
    await settle(*hooks)
    assert receiver.count == before + 1
    hooks[1].redeliver(task_id)  # asked of the other one: once again
    a.sync()
    await settle(*hooks)
    assert receiver.count == before + 2
    for hook in hooks:
        len(hook.log)  # a read flushes that process's lines (written behind)
    redelivered = [a for a in hooks[1].log if a.redelivery]
    assert len(redelivered) == 2  # one shared delivery log


async def test_a_redelivery_is_sent_once_by_whichever_process_claims_it(
    pair: tuple[Backend, Backend], receiver: Receiver
) -> None:
    await check_one_redelivery(*pair, receiver)


async def test_unclaimed_redeliveries_fail_the_redelivery_check(
    pair: tuple[Backend, Backend], receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The broken input: every process sends every redelivery it plans (no claim)."""
    from mock_server.webhooks.shared import SharedHooks

    monkeypatch.setattr(SharedHooks, "_claim_redelivery", lambda self, job: True)
    with pytest.raises(AssertionError):
        await check_one_redelivery(*pair, receiver)
