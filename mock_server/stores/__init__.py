"""The stores behind :class:`mock_server.domain.store.TaskStore`, chosen by ``--store URL``.

- ``memory://`` (default): this process's memory, as fast as a dict (:mod:`.memory`);
- ``sqlite:///path``: an embedded file that survives a restart (:mod:`.sqlite`);
- ``redis://host:port/db``: shared by workers and hosts (:mod:`.redis`, redis-py).

The SQLite and Redis modules are imported only when their scheme is asked for.
"""

from __future__ import annotations

from typing import Any, Final

from mock_server.domain.store import TaskStore
from mock_server.stores.memory import MemoryStore

SCHEMES: Final = ("memory://", "sqlite:///", "redis://", "rediss://", "unix://")


def open_store(url: str) -> TaskStore:
    """The store ``url`` names; ``ValueError`` naming the accepted forms otherwise."""
    if url in {"", "memory://", "memory"}:
        return MemoryStore()
    if url.startswith("sqlite:///"):
        import sqlite3

        from mock_server.stores.sqlite import SqliteStore

        try:
            return SqliteStore(url)
        except sqlite3.Error as exc:
            raise ValueError(f"store {url!r}: cannot open the SQLite file: {exc}") from None
    if url.startswith(("redis://", "rediss://", "unix://")):
        from mock_server.stores.redis import RedisStore, unreachable

        store = RedisStore(url)
        problem = unreachable(store)
        if problem:
            store.close()
            raise ValueError(f"store {url!r}: cannot reach Redis: {problem}")
        return store
    raise ValueError(f"store {url!r}: expected memory://, sqlite:///PATH or redis://HOST:PORT/DB")


def outage(exc: BaseException) -> bool:
    """Whether ``exc`` is a store failing to answer (Redis unreachable or timing out, SQLite
    locked or its disk failing), not a bug: the web layer answers 503 for it."""
    import sys

    redis = sys.modules.get("redis")
    if redis is not None and _redis_unavailable(redis, exc):
        return True
    sqlite3 = sys.modules.get("sqlite3")
    return sqlite3 is not None and isinstance(exc, sqlite3.OperationalError)


def _redis_unavailable(redis: Any, exc: BaseException) -> bool:
    """Unreachable, timing out, or refusing writes for now: out of memory (``maxmemory``), a
    read-only replica, a failover or cluster change under way, a script running too long."""
    errors = redis.exceptions
    kinds: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError)
    kinds += (errors.OutOfMemoryError, errors.ReadOnlyError, errors.MasterDownError)
    kinds += (errors.ClusterDownError, errors.TryAgainError)
    if isinstance(exc, kinds):
        return True
    return isinstance(exc, redis.ResponseError) and str(exc).startswith("BUSY ")


def is_shared(url: str) -> bool:
    """Whether ``url`` names a store several processes can share (not ``memory://``)."""
    return url not in {"", "memory://", "memory"}


__all__ = ["MemoryStore", "is_shared", "open_store", "outage"]
