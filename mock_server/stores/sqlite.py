"""``sqlite:///path``: an embedded file that survives a restart (and can be shared by the
worker processes of one host: WAL mode, a busy timeout, claims by ``INSERT OR IGNORE``).

Task ids never repeat across restarts: the backend mixes a boot counter kept here into its
id stream, and ``seq INTEGER PRIMARY KEY AUTOINCREMENT`` never reuses a cursor position.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from mock_server.domain.models import TaskRecord
from mock_server.domain.store import DuplicateTask, Held, Hold, add_held_in_steps, at_text
from mock_server.stores import codec
from mock_server.stores.wallets import OPS

#: Records per query when reading newest first (the dashboard asks for 50 at a time).
NEWEST_BATCH: Final = 100
SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    hook INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_with_hooks ON tasks (seq) WHERE hook = 1;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, holder TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    log TEXT NOT NULL,
    entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_by_name ON logs (log, seq);
CREATE TABLE IF NOT EXISTS wallets (
    account TEXT PRIMARY KEY,
    frozen INTEGER NOT NULL DEFAULT 0,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS holds (
    account TEXT NOT NULL,
    task TEXT NOT NULL,
    cost INTEGER NOT NULL,
    at TEXT NOT NULL,
    ok INTEGER NOT NULL,
    PRIMARY KEY (account, task)
);
CREATE INDEX IF NOT EXISTS holds_by_end ON holds (account, at) WHERE at != '-';
"""


def path_of(url: str) -> Path:
    """``sqlite:///relative.db`` or ``sqlite:////absolute.db`` to a path."""
    rest = url.removeprefix("sqlite://")
    if not rest.startswith("/") or rest == "/":
        raise ValueError(f"store {url!r}: expected sqlite:///PATH (a file path after ///)")
    return Path(rest[1:])


class SqliteStore:
    """Records as JSON rows in one SQLite file; one connection guarded by a lock."""

    shared = True

    def __init__(self, url: str) -> None:
        self.url = url
        path = path_of(url)
        if path.parent != Path():
            path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            str(path), timeout=10.0, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    # -- tasks ------------------------------------------------------------------------------

    def add(self, record: TaskRecord, guard: tuple[str, str] | None = None) -> bool:
        row = (record.task_id, record.webhook is not None, codec.dumps(record))
        insert = "INSERT INTO tasks (id, hook, body) "
        try:
            with self._lock:
                if guard is None:
                    self._db.execute(insert + "VALUES (?, ?, ?)", row)
                    return True
                cursor = self._db.execute(
                    insert + "SELECT ?, ?, ? WHERE (SELECT value FROM kv WHERE key = ?) = ?",
                    (*row, *guard),
                )
                return cursor.rowcount == 1
        except sqlite3.IntegrityError:
            raise DuplicateTask(record.task_id) from None

    def put(self, record: TaskRecord) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE tasks SET body = ? WHERE id = ?", (codec.dumps(record), record.task_id)
            )

    def get(self, task_id: str) -> TaskRecord | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return None if row is None else codec.loads(row[0])

    def read(self, task_id: str, key: str) -> tuple[TaskRecord | None, str | None]:
        with self._lock:
            row = self._db.execute(
                "SELECT (SELECT body FROM tasks WHERE id = ?),"
                " (SELECT value FROM kv WHERE key = ?)",
                (task_id, key),
            ).fetchone()
        return (None if row[0] is None else codec.loads(row[0])), row[1]

    def remove(self, task_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM tasks WHERE id = ?", (task_id,))

    def scan(
        self, after: str | None = None, limit: int = 1000, *, hooks: bool = False
    ) -> tuple[list[TaskRecord], str]:
        cursor = int(after) if after else 0
        where = "seq > ? AND hook = 1" if hooks else "seq > ?"
        with self._lock:
            rows = self._db.execute(
                f"SELECT seq, body FROM tasks WHERE {where} ORDER BY seq LIMIT ?",
                (cursor, max(0, limit)),
            ).fetchall()
        if rows:
            cursor = rows[-1][0]
        return [codec.loads(body) for _, body in rows], str(cursor)

    def __iter__(self) -> Iterator[TaskRecord]:
        after: str | None = None
        while True:
            batch, after = self.scan(after, 1000)
            yield from batch
            if len(batch) < 1000:
                return

    def __reversed__(self) -> Iterator[TaskRecord]:
        """Newest first, in batches (the dashboard reads only its newest page)."""
        below = 2**63 - 1
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT seq, body FROM tasks WHERE seq < ? ORDER BY seq DESC LIMIT ?",
                    (below, NEWEST_BATCH),
                ).fetchall()
            yield from (codec.loads(body) for _, body in rows)
            if len(rows) < NEWEST_BATCH:
                return
            below = rows[-1][0]

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT count(*) FROM tasks").fetchone()
        return int(count)

    def clear(self) -> None:
        with self._lock:
            self._db.executescript(
                "BEGIN; DELETE FROM tasks; DELETE FROM claims; DELETE FROM kv;"
                " DELETE FROM logs; DELETE FROM wallets; DELETE FROM holds;"
                " DELETE FROM counters WHERE name LIKE 'log:%'; COMMIT;"
            )

    # -- counters, claims, kv, logs -----------------------------------------------------------

    def incr(self, name: str, by: int = 1) -> int:
        with self._lock:
            (value,) = self._db.execute(
                "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name)"
                " DO UPDATE SET value = value + excluded.value RETURNING value",
                (name, by),
            ).fetchone()
        return int(value)

    def claim(self, key: str, holder: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO claims (key, holder) VALUES (?, ?)", (key, holder)
            )
        return cursor.rowcount == 1

    def kv_get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def kv_set(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO kv (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def append(self, log: str, entries: list[str], keep: int) -> None:
        if not entries:
            return
        with self._lock:
            db = self._db
            db.execute("BEGIN")
            try:
                db.executemany(
                    "INSERT INTO logs (log, entry) VALUES (?, ?)", [(log, e) for e in entries]
                )
                db.execute(
                    "DELETE FROM logs WHERE log = ? AND seq <= (SELECT seq FROM logs WHERE"
                    " log = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                    (log, log, max(1, keep)),
                )
                db.execute(
                    "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name)"
                    " DO UPDATE SET value = value + excluded.value",
                    (f"log:{log}", len(entries)),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def tail(self, log: str, limit: int) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT entry FROM logs WHERE log = ? ORDER BY seq DESC LIMIT ?",
                (log, max(0, limit)),
            ).fetchall()
        return [row[0] for row in reversed(rows)]

    def log_count(self, log: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM counters WHERE name = ?", (f"log:{log}",)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def ledger(
        self, account: str, now: int, op: str = "", hold: Hold | None = None, limit: int = 0
    ) -> tuple[bool, int, int]:
        if op not in OPS:
            raise ValueError(f"unknown ledger op {op!r}")
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")  # the write lock first: no other process in between
            try:
                done = _ledger_step(db, account, at_text(now), op, hold, limit)
                frozen, used = db.execute(
                    "SELECT frozen, used FROM wallets WHERE account = ?", (account,)
                ).fetchone()
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return done, int(frozen), int(used)

    def add_held(
        self, record: TaskRecord, guard: tuple[str, str] | None, held: Held
    ) -> tuple[int, int, int]:
        return add_held_in_steps(self, record, guard, held)

    def kv_swap(self, key: str, old: str | None, new: str) -> bool:
        with self._lock:
            if old is None:
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO kv (key, value) VALUES (?, ?)", (key, new)
                )
            else:
                cursor = self._db.execute(
                    "UPDATE kv SET value = ? WHERE key = ? AND value = ?", (new, key, old)
                )
            return cursor.rowcount == 1

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _ledger_step(
    db: sqlite3.Connection, account: str, now: str, op: str, hold: Hold | None, limit: int
) -> bool:
    """The ``ledger`` rules inside an open transaction (see ``TaskStore.ledger``)."""
    db.execute("INSERT OR IGNORE INTO wallets (account) VALUES (?)", (account,))
    (due, frozen, used) = db.execute(
        "SELECT count(*), coalesce(sum(cost), 0), coalesce(sum(CASE WHEN ok THEN cost END), 0)"
        " FROM holds WHERE account = ? AND at != '-' AND at <= ?",
        (account, now),
    ).fetchone()
    if due:
        db.execute("DELETE FROM holds WHERE account = ? AND at != '-' AND at <= ?", (account, now))
        db.execute(
            "UPDATE wallets SET frozen = frozen - ?, used = used + ? WHERE account = ?",
            (frozen, used, account),
        )
    if not op or hold is None:
        return True
    row = db.execute(
        "SELECT cost FROM holds WHERE account = ? AND task = ?", (account, hold.task_id)
    ).fetchone()
    if op in {"freeze", "use"} and row is None:
        if limit:
            (spent,) = db.execute(
                "SELECT frozen + used FROM wallets WHERE account = ?", (account,)
            ).fetchone()
            if spent + hold.cost > limit:
                return False
        column = "used" if op == "use" else "frozen"
        db.execute(
            f"UPDATE wallets SET {column} = {column} + ? WHERE account = ?", (hold.cost, account)
        )
        if op == "freeze":
            db.execute(
                "INSERT INTO holds (account, task, cost, at, ok) VALUES (?, ?, ?, ?, ?)",
                (account, hold.task_id, hold.cost, at_text(hold.at), hold.ok),
            )
    elif op in {"freeze", "track"} and row is not None:
        db.execute(
            "UPDATE holds SET at = ?, ok = ? WHERE account = ? AND task = ?",
            (at_text(hold.at), hold.ok, account, hold.task_id),
        )
    elif op == "release" and row is not None:
        db.execute("DELETE FROM holds WHERE account = ? AND task = ?", (account, hold.task_id))
        db.execute("UPDATE wallets SET frozen = frozen - ? WHERE account = ?", (row[0], account))
    return True
