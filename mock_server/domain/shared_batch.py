"""What a store offers to batch the request path: the commands of concurrent requests sent in
one round trip per event-loop turn (Redis: :class:`~mock_server.stores.redis_batch.Batcher`).

The backend's ``create_prepared_async`` and ``get_async`` await these when the store has them,
and make the plain one-by-one call otherwise (``memory://``, SQLite).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from mock_server.domain.models import TaskRecord
from mock_server.domain.store import Held


@runtime_checkable
class BatchedAdd(Protocol):
    """A store whose ``add_held`` can be awaited, batched with concurrent requests'."""

    async def add_held_batched(
        self, record: TaskRecord, guard: tuple[str, str] | None, held: Held
    ) -> tuple[int, int, int]: ...


@runtime_checkable
class BatchedRead(Protocol):
    """A store whose ``read`` can be awaited, batched with concurrent requests'."""

    async def read_batched(
        self, task_id: str, key: str
    ) -> tuple[TaskRecord | None, str | None]: ...
