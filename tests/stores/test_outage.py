"""A shared store that stops answering: the API answers PiAPI's envelope with 503 naming the
store's error, not a 500 "bug" (a real redis-server, stopped mid-test)."""

from __future__ import annotations

import shutil

import httpx
import pytest
import redis

from mock_server.settings import Settings
from mock_server.web.app import create_asgi
from tests.conftest import KEY, seed_request
from tests.stores.conftest import RedisServer

pytestmark = [pytest.mark.anyio, pytest.mark.socket]


async def test_a_vanished_redis_is_a_503_envelope() -> None:
    executable = shutil.which("redis-server")
    assert executable is not None, "redis-server is not installed (make system-deps)"
    server = RedisServer(executable)
    try:
        app = create_asgi(Settings(store=server.url))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # as a server
        async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
            created = await client.post("/api/v1/task", json=seed_request(), headers=KEY)
            assert created.status_code == 200
            task_id = created.json()["data"]["task_id"]
            server.stop()
            answer = await client.get(f"/api/v1/task/{task_id}", headers=KEY)
    finally:
        if server.process.poll() is None:
            server.stop()
    assert answer.status_code == 503
    body = answer.json()
    assert body["code"] == 503
    assert body["data"] is None
    assert body["message"].startswith("store unavailable: ConnectionError")


def test_only_store_failures_are_outages() -> None:
    """The mapping bites on store errors only: a bug elsewhere stays a 500."""
    import sqlite3

    import redis

    from mock_server.stores import outage

    assert outage(redis.ConnectionError("gone"))
    assert outage(sqlite3.OperationalError("database is locked"))
    assert not outage(ValueError("a bug"))
    assert not outage(redis.ResponseError("WRONGTYPE"))


def test_a_store_refusing_writes_for_now_is_an_outage() -> None:
    """Out of memory, a read-only replica, a failover or a busy script: 503, not a bug."""
    import redis.exceptions as errors

    from mock_server.stores import outage

    for now in (
        errors.OutOfMemoryError("command not allowed when used memory > 'maxmemory'."),
        errors.ReadOnlyError("You can't write against a read only replica."),
        errors.MasterDownError("Link with MASTER is down"),
        errors.TryAgainError("Multiple keys request during rehashing of slot"),
        redis.ResponseError("BUSY Redis is busy running a script."),
    ):
        assert outage(now), now
    assert not outage(redis.ResponseError("ERR unknown command"))


async def test_a_full_redis_is_a_503_and_nothing_is_left_behind() -> None:
    executable = shutil.which("redis-server")
    assert executable is not None, "redis-server is not installed (make system-deps)"
    server = RedisServer(executable)
    control = redis.Redis.from_url(server.url)
    try:
        app = create_asgi(Settings(store=server.url))
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # as a server
        async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
            first = await client.post("/api/v1/task", json=seed_request(), headers=KEY)
            control.config_set("maxmemory", 1)  # every write refused: OOM
            full = await client.post("/api/v1/task", json=seed_request(), headers=KEY)
            control.config_set("maxmemory", 0)
            after = await client.post("/api/v1/task", json=seed_request(), headers=KEY)
        keys = [k if isinstance(k, str) else k.decode() for k in control.keys("*:task:*")]
        stored = sorted(k.rsplit(":", 1)[1] for k in keys)
        staged = control.keys("*:stage:*")
    finally:
        control.close()
        server.stop()
    assert full.status_code == 503
    assert full.json()["message"].startswith("store unavailable: OutOfMemoryError")
    assert after.status_code == 200
    ids = [r.json()["data"]["task_id"] for r in (first, after)]
    assert stored == sorted(ids)  # the refused create left no task
    assert staged == []  # and no staged record
