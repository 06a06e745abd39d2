"""``redis://host:port/db``: one state shared by ``--workers N`` and by ``serve`` processes on
several hosts (redis-py; Redis 6+ or a Redis-compatible server).

Every key starts with ``piapi-mock:{NS}:`` (``NS`` from ``?namespace=``, default ``main``); the
braces are a cluster hash tag, so every key lives in one slot and the Lua scripts work on a
Redis Cluster too (one shard then holds the fake's whole state).

Layout: ``task:<id>`` the record as JSON, ``tasks`` a sorted set of ids scored by a creation
sequence (``seq``: the cursor of :meth:`RedisStore.scan`), ``hooks`` the same for records
with a webhook, ``n:<name>`` counters, ``claim:<key>`` (``SET NX``), ``kv:<key>``, and
``log:<name>`` lists with ``logn:<name>`` counts. ``n:epoch`` moves after every change of a
stored record (put, remove, clear): the finished-record cache's check
(:mod:`mock_server.domain.shared_cache`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit, urlunsplit

import redis
from hiredis import pack_command

from mock_server.domain.models import TaskRecord
from mock_server.domain.shared_cache import EPOCH
from mock_server.domain.store import DuplicateTask, Held, Hold, at_text
from mock_server.stores import codec
from mock_server.stores.redis_batch import Batcher
from mock_server.stores.redis_scripts import ADD, ADD_HELD, LEDGER, STAGE_MS, SWAP
from mock_server.stores.wallets import OPS

#: Records per round trip when reading newest first (the dashboard asks for 50 at a time).
NEWEST_BATCH: Final = 100


def unreachable(store: RedisStore) -> str:
    """Why ``store``'s server does not answer PING ("" when it does)."""
    try:
        store.redis.ping()
    except redis.RedisError as exc:
        return str(exc) or type(exc).__name__
    return ""


def split_url(url: str) -> tuple[str, str]:
    """(the URL redis-py should connect to, the key namespace)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    namespace = (query.pop("namespace", None) or ["main"])[0]
    rest = "&".join(f"{k}={v}" for k, values in query.items() for v in values)
    return urlunsplit(parts._replace(query=rest)), namespace


class RedisStore:
    """The shared store: one connection pool, safe to use from several threads."""

    shared = True

    def __init__(self, url: str, client: Any | None = None) -> None:
        self.url = url
        connect, namespace = split_url(url)
        self.prefix = f"piapi-mock:{{{namespace}}}:"
        self.redis: Any = client or redis.Redis.from_url(
            connect, socket_connect_timeout=5.0, socket_timeout=10.0, health_check_interval=30
        )
        self._add = self.redis.register_script(ADD)
        self._ledger = self.redis.register_script(LEDGER)
        self._add_held = self.redis.register_script(ADD_HELD)
        self._swap = self.redis.register_script(SWAP)
        #: The request path's own connection (see :meth:`_fast`).
        self._lane: Any = None
        self._lane_lock = threading.Lock()
        #: The request path's commands of one event-loop turn, as one pipeline on the lane.
        self.batcher = Batcher(self._pipe)
        #: Records the batched reads decoded, by the text they came from.
        self.decoded = codec.ReadMemo()
        p = self.prefix
        self._index, self._hooks, self._seq = p + "tasks", p + "hooks", p + "n:seq"
        self._epoch = f"{p}n:{EPOCH}"
        #: Changes this process made to stored records (put, remove, clear): with the store
        #: counter ``n:epoch``, moved after each, what :class:`FinishedCache` checks.
        self.changes = 0

    def _task(self, task_id: str) -> str:
        return f"{self.prefix}task:{task_id}"

    def _fast(self, *command: Any) -> Any:
        """One command on a dedicated connection, through redis-py's connection layer only.

        redis-py's client layer (retries, observability hooks) costs about 20 us of CPU a
        command, more than the round trip; the request path (create, get) skips it. A broken
        connection is reopened once; errors the server answers are raised as they are.
        """
        with self._lane_lock:
            if self._lane is None:
                self._lane = self.redis.connection_pool.make_connection()
            lane = self._lane
            try:
                lane.send_command(*command)
                return lane.read_response()
            except (redis.ConnectionError, redis.TimeoutError):
                lane.disconnect()
                lane.send_command(*command)
                return lane.read_response()

    def _pipe(self, packed: list[bytes], replies: int | None = None) -> list[Any]:
        """Packed commands in one write on the lane; their ``replies`` (default: one per
        item of ``packed``) in order, a server error as its exception. A broken connection
        is reopened and the batch sent again if no reply was read yet; else the commands
        without a reply get the error."""
        expected = len(packed) if replies is None else replies
        with self._lane_lock:
            if self._lane is None:
                self._lane = self.redis.connection_pool.make_connection()
            lane = self._lane
            read: list[Any] = []
            for attempt in (1, 2):
                try:
                    lane.send_packed_command([b"".join(packed)])
                    while len(read) < expected:
                        read.append(_reply(lane))
                    return read
                except (redis.ConnectionError, redis.TimeoutError) as exc:
                    lane.disconnect()
                    if read or attempt == 2:
                        return read + [exc] * (expected - len(read))
            raise AssertionError("unreachable")

    # -- tasks ------------------------------------------------------------------------------

    def add(self, record: TaskRecord, guard: tuple[str, str] | None = None) -> bool:
        keys = [self._task(record.task_id), self._index, self._seq, self._hooks]
        args = [codec.dumps(record), record.task_id, "1" if record.webhook is not None else "0"]
        if guard is not None:
            keys.append(f"{self.prefix}kv:{guard[0]}")
            args.append(guard[1])
        try:
            done = self._fast("EVALSHA", self._add.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:  # a new or flushed server: load it, once
            done = self._add(keys=keys, args=args)
        if not done:
            raise DuplicateTask(record.task_id)
        return bool(done > 0)

    def put(self, record: TaskRecord) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(self._task(record.task_id), codec.dumps(record), xx=True)
        pipe.incr(self._epoch)  # after the write: a reader of the new epoch sees the record
        pipe.execute()
        self.changes += 1

    def get(self, task_id: str) -> TaskRecord | None:
        raw = self._fast("GET", self._task(task_id))
        return None if raw is None else codec.loads(raw)

    def read(self, task_id: str, key: str) -> tuple[TaskRecord | None, str | None]:
        return _record_and(self._fast("MGET", self._task(task_id), f"{self.prefix}kv:{key}"))

    async def read_batched(self, task_id: str, key: str) -> tuple[TaskRecord | None, str | None]:
        """:meth:`read`, sent with the other commands of this event-loop turn; a record read
        again with the same text is the one decoded before (:class:`codec.ReadMemo`: the
        get path only reads it)."""
        command: tuple[Any, ...] = ("MGET", self._task(task_id), f"{self.prefix}kv:{key}")
        raw, value = await self.batcher.call(pack_command(command))
        record = None if raw is None else self.decoded.loads(task_id, raw)
        return record, None if value is None else value.decode()

    def remove(self, task_id: str) -> None:
        pipe = self.redis.pipeline()
        pipe.delete(self._task(task_id))
        pipe.zrem(self._index, task_id)
        pipe.zrem(self._hooks, task_id)
        pipe.incr(self._epoch)
        pipe.execute()
        self.changes += 1

    def scan(
        self, after: str | None = None, limit: int = 1000, *, hooks: bool = False
    ) -> tuple[list[TaskRecord], str]:
        cursor = int(after) if after else 0
        if limit <= 0:
            return [], str(cursor)
        rows = self.redis.zrangebyscore(
            self._hooks if hooks else self._index,
            f"({cursor}",
            "+inf",
            start=0,
            num=limit,
            withscores=True,
        )
        if not rows:
            return [], str(cursor)
        bodies = self.redis.mget([self._task(member.decode()) for member, _ in rows])
        records = [codec.loads(body) for body in bodies if body is not None]
        return records, str(int(rows[-1][1]))

    def __iter__(self) -> Iterator[TaskRecord]:
        after: str | None = None
        while True:
            batch, cursor = self.scan(after, 1000)
            yield from batch
            if cursor == (after or "0"):
                return
            after = cursor

    def __reversed__(self) -> Iterator[TaskRecord]:
        """Newest first, in batches (the dashboard reads only its newest page)."""
        top = "+inf"
        while True:
            rows = self.redis.zrevrangebyscore(
                self._index, top, "-inf", start=0, num=NEWEST_BATCH, withscores=True
            )
            if rows:
                bodies = self.redis.mget([self._task(member.decode()) for member, _ in rows])
                yield from (codec.loads(body) for body in bodies if body is not None)
            if len(rows) < NEWEST_BATCH:
                return
            top = f"({int(rows[-1][1])}"

    def __len__(self) -> int:
        """Records stored (the ``--max-tasks`` check reads it every 64th create: the request
        lane, without the client layer)."""
        return int(self._fast("ZCARD", self._index))

    def clear(self) -> None:
        """Forget every key of the namespace except the counters (ids never repeat)."""
        keep = self.prefix + "n:"
        batch: list[bytes] = []
        for key in self.redis.scan_iter(match=self.prefix + "*", count=1000):
            if not key.decode().startswith(keep):
                batch.append(key)
            if len(batch) >= 1000:
                self.redis.unlink(*batch)
                batch.clear()
        if batch:
            self.redis.unlink(*batch)
        self.decoded.clear()
        self.redis.incr(self._epoch)
        self.changes += 1

    # -- counters, claims, kv, logs -----------------------------------------------------------

    def incr(self, name: str, by: int = 1) -> int:
        return int(self._fast("INCRBY", f"{self.prefix}n:{name}", by))

    def claim(self, key: str, holder: str) -> bool:
        return bool(self.redis.set(f"{self.prefix}claim:{key}", holder, nx=True))

    def kv_get(self, key: str) -> str | None:
        raw = self._fast("GET", f"{self.prefix}kv:{key}")
        return None if raw is None else str(raw.decode())

    def kv_set(self, key: str, value: str) -> None:
        self.redis.set(f"{self.prefix}kv:{key}", value)

    def append(self, log: str, entries: list[str], keep: int) -> None:
        if not entries:
            return
        key = f"{self.prefix}log:{log}"
        commands: list[tuple[Any, ...]] = [("RPUSH", key, *entries)]
        commands.append(("LTRIM", key, -max(1, keep), -1))
        commands.append(("INCRBY", f"{self.prefix}logn:{log}", len(entries)))
        for reply in self._pipe([pack_command(command) for command in commands]):
            if isinstance(reply, BaseException):
                raise reply

    def tail(self, log: str, limit: int) -> list[str]:
        if limit <= 0:
            return []
        raw = self.redis.lrange(f"{self.prefix}log:{log}", -limit, -1)
        return [entry.decode() for entry in raw]

    def log_count(self, log: str) -> int:
        raw = self.redis.get(f"{self.prefix}logn:{log}")
        return 0 if raw is None else int(raw)

    def ledger(
        self, account: str, now: int, op: str = "", hold: Hold | None = None, limit: int = 0
    ) -> tuple[bool, int, int]:
        if op not in OPS:
            raise ValueError(f"unknown ledger op {op!r}")
        p = self.prefix
        keys = [f"{p}wallet:{account}", f"{p}holds:{account}", f"{p}ends:{account}"]
        task, cost, at, ok = hold if hold is not None else ("", 0, -1, True)
        args = [at_text(now), op if hold is not None else "", task, cost, at_text(at)]
        args += ["1" if ok else "0", limit]
        done, frozen, used = self._script(self._ledger, keys, args)
        return bool(done), int(frozen), int(used)

    def add_held(
        self, record: TaskRecord, guard: tuple[str, str] | None, held: Held
    ) -> tuple[int, int, int]:
        """The record staged and the create's step (:data:`ADD_HELD`) run, in one round trip."""
        keys, args = self._add_held_call(record, guard, held)
        commands = [self._staging(record, keys), self._add_held_command(keys, args)]
        staged, reply = self._pipe(commands, 2)
        return _booked(record, self._reloaded(staged, reply, keys, args))

    async def add_held_batched(
        self, record: TaskRecord, guard: tuple[str, str] | None, held: Held
    ) -> tuple[int, int, int]:
        """:meth:`add_held`, sent with the other commands of this event-loop turn."""
        keys, args = self._add_held_call(record, guard, held)
        packed = self._staging(record, keys) + self._add_held_command(keys, args)
        staged, reply = await self.batcher.call(packed, 2)
        return _booked(record, self._reloaded(staged, reply, keys, args))

    def _staging(self, record: TaskRecord, keys: list[str]) -> bytes:
        """The record written under the staging key (expiring, should its step never run):
        a script costs per byte it is handed, so the record does not go through it."""
        command: tuple[Any, ...] = ("SET", keys[8], codec.dumps(record), "PX", STAGE_MS)
        return bytes(pack_command(command))

    def _add_held_command(self, keys: list[str], args: list[Any]) -> bytes:
        command: tuple[Any, ...] = ("EVALSHA", self._add_held.sha, len(keys), *keys, *args)
        return bytes(pack_command(command))

    def _reloaded(self, staged: Any, reply: Any, keys: list[str], args: list[Any]) -> Any:
        """The step's reply; run again, loading the script, if the server had lost it (the
        staged record is still there)."""
        if isinstance(staged, BaseException):
            raise staged
        if isinstance(reply, redis.exceptions.NoScriptError):
            return self._add_held(keys=keys, args=args)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def _add_held_call(
        self, record: TaskRecord, guard: tuple[str, str] | None, held: Held
    ) -> tuple[list[str], list[Any]]:
        """KEYS and ARGV of :data:`ADD_HELD`."""
        p = self.prefix
        account = held.account
        task_id = record.task_id
        keys = [self._task(task_id), self._index, self._seq, self._hooks]
        keys += [f"{p}kv:{guard[0] if guard else ''}"]
        keys += [f"{p}wallet:{account}", f"{p}holds:{account}", f"{p}ends:{account}"]
        keys.append(f"{p}stage:{task_id}")
        task, cost, at, ok = held.hold
        hooked = record.webhook is not None and held.listed
        args: list[Any] = [task_id, "1" if hooked else "0"]
        args += [guard[1] if guard else "", at_text(held.now), held.op, task, cost, at_text(at)]
        args += ["1" if ok else "0", held.limit]
        return keys, args

    def kv_swap(self, key: str, old: str | None, new: str) -> bool:
        args = ["" if old is None else old, new, "1" if old is None else "0"]
        return bool(self._script(self._swap, [f"{self.prefix}kv:{key}"], args))

    def _script(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        """Run a registered script on the request lane (loading it once if the server lost it)."""
        try:
            return self._fast("EVALSHA", script.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:
            return script(keys=keys, args=args)

    def close(self) -> None:
        with self._lane_lock:
            if self._lane is not None:
                self._lane.disconnect()
                self._lane = None
        self.redis.close()


def _reply(lane: Any) -> Any:
    """The next reply on ``lane`` (a server error returned, not raised: it is that command's)."""
    try:
        return lane.read_response()
    except redis.ResponseError as exc:
        return exc


def _booked(record: TaskRecord, reply: Any) -> tuple[int, int, int]:
    """:meth:`RedisStore.add_held`'s answer from :data:`ADD_HELD`'s reply."""
    stored, frozen, used = reply
    if stored == 0:
        raise DuplicateTask(record.task_id)
    return (1 if stored > 0 else 0 if stored == -1 else -2), int(frozen), int(used)


def _record_and(reply: Any) -> tuple[TaskRecord | None, str | None]:
    """The record and the value an ``MGET`` of both read."""
    raw, value = reply
    return None if raw is None else codec.loads(raw), None if value is None else value.decode()
