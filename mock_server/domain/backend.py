"""The fake's state and verbs. HTTP handlers call one verb each; errors are exceptions.

All state lives here: the store, the clock, the seeded random source, the price table and the
journal. Task status is never stored; :func:`lifecycle.view` derives it from the clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from mock_server.domain import lifecycle, platform, scenarios, timing
from mock_server.domain.accounts import Ledger
from mock_server.domain.clock import LATEST_NS, Clock, ManualClock, SystemClock, to_ns
from mock_server.domain.errors import (
    InsufficientCredits,
    NotCancellable,
    PiapiError,
    TaskNotFound,
    Unauthorized,
)
from mock_server.domain.faults import FaultBook
from mock_server.domain.ids import uuid4_text
from mock_server.domain.journal import Journal
from mock_server.domain.links import check_links
from mock_server.domain.models import (
    Failure,
    Status,
    TaskRecord,
    TaskView,
    shared_text,
    stored_record,
)
from mock_server.domain.observers import BackendObserver
from mock_server.domain.prepared import Prepared, PreparedMemo, prepare
from mock_server.domain.pricing import Prices
from mock_server.domain.queue import SlotQueue, SlotTicker
from mock_server.domain.shared import CLOCK_KEY, StoreClock, StoreJournal
from mock_server.domain.shared_batch import BatchedAdd, BatchedRead
from mock_server.domain.shared_cache import CountsChanges, FinishedCache, Token
from mock_server.domain.shared_ledger import StoreLedger
from mock_server.domain.shared_queue import StoreQueue
from mock_server.domain.shared_rules import StoreFaultBook, StoreScenarioBook
from mock_server.domain.store import TaskStore
from mock_server.packs import Pack, PackBook, book_for
from mock_server.settings import Settings
from mock_server.stores import open_store

#: What :meth:`Backend.force` can do to a task.
FORCE_ACTIONS = ("complete", "fail", "advance")
#: Records looked at, from the oldest, for one eviction, and removed at most per create.
PRUNE_WINDOW = 64


#: Creates between two settlements of an unlimited ledger (see ``Backend._check_credits``).
SETTLE_EVERY: Final = 64


class Backend:
    """Everything the fake knows, and the verbs the API and the control plane call."""

    def __init__(
        self,
        settings: Settings | None = None,
        clock: Clock | None = None,
        store: TaskStore | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.store: TaskStore = store if store is not None else open_store(self.settings.store)
        #: Whether the state is shared with other processes or runs (not ``memory://``).
        self.shared = self.store.shared
        self.clock: Clock = clock or self._default_clock()
        self.packs: PackBook = book_for(tuple(self.settings.packs))
        self.prices = Prices(self.packs, self.settings.price_table)
        self.journal: Journal = (
            StoreJournal(self.store, self.settings.journal_size)
            if self.shared
            else Journal(self.settings.journal_size)
        )
        self.cancel_status = Status(self.settings.cancel_status)
        #: Create bodies already prepared, by raw bytes (the web layer's; cleared on reset).
        self.prepared = PreparedMemo()
        self.observers: list[BackendObserver] = []
        self.generation = 0
        self.rng = self._seeded_rng()
        s = self.settings
        self.scenarios: scenarios.ScenarioBook
        self.faults: FaultBook
        if self.shared:  # rules, counters and the fault log in the store
            self.scenarios = StoreScenarioBook(self.store, s.seed, s.failure_rate, s.scenario_rates)
            self.faults = StoreFaultBook(
                self.store, s.seed, s.fault_rate, s.fault_kind, self.headers_honoured
            )
        else:
            self.scenarios = scenarios.ScenarioBook(s.seed, s.failure_rate, s.scenario_rates)
            self.faults = FaultBook(s.seed, s.fault_rate, s.fault_kind, self.headers_honoured)
        #: (host, port) pairs the fake listens on or was reached at (the webhook sender
        #: never delivers there unless explicitly allowed).
        self.listening: set[tuple[str, int]] = set()
        #: Tasks removed by ``--retention`` and by the ``--max-tasks`` cap (``/_mock/health``).
        self.expired = 0
        self.evicted = 0
        self._creates = 0
        self._prune_after: str | None = None
        if s.max_tasks < 0 or s.retention < 0:
            raise ValueError("max_tasks and retention must be >= 0 (0: no limit)")
        credits = round(s.credits_usd * self.prices.points_per_usd)
        self.ledger = (
            StoreLedger(self.store, credits, lambda: self.clock.now())
            if self.shared
            else Ledger(credits)
        )
        self.queue: SlotQueue | None = None
        if s.max_concurrent and self.shared:  # one limit per key for every process
            self.queue = StoreQueue(
                self.store, s.max_concurrent, self._started, lambda: self.clock.now()
            )
        elif s.max_concurrent:
            self.queue = SlotQueue(s.max_concurrent, self._started)
        if self.queue is not None:
            self.observers.append(SlotTicker(self.queue, self.clock, self.catch_up))
        #: Why the webhook policy refuses an endpoint ("" if it does not): set by the webhook
        #: dispatcher. On a shared store, tasks it refuses are not listed for other processes.
        self.hook_refusal: Callable[[str], str] | None = None
        #: The store's batched steps, if it has them (a protocol check costs ~5 us: once here).
        self._batched_add: BatchedAdd | None = (
            self.store if isinstance(self.store, BatchedAdd) else None
        )
        self._batched_read: BatchedRead | None = (
            self.store if isinstance(self.store, BatchedRead) else None
        )
        #: Finished records kept here (a get of one makes no round trip): shared stores that
        #: count their changes, without ``--retention`` (see ``domain/shared_cache.py``).
        self.finished = (
            FinishedCache(self.store)
            if isinstance(self.store, CountsChanges) and not s.retention
            else None
        )

    @property
    def headers_honoured(self) -> bool:
        """Whether ``X-Mock-Scenario``/``X-Mock-Fault`` count: ``--no-control`` turns them off."""
        return self.settings.scenario_headers and self.settings.control

    def _default_clock(self) -> Clock:
        if self.shared:
            return StoreClock(self.store, self.settings.speed)
        return SystemClock(self.settings.speed)

    def _seeded_rng(self) -> random.Random:
        """Task ids and timings. On a shared store every boot (and reset) takes a new
        generation from the store, so no id is ever handed out twice; generation 0 (always,
        on ``memory://``) is exactly ``Random(seed)``."""
        if self.shared:
            self.generation = self.store.incr("generation") - 1
        seed = self.settings.seed
        return random.Random(seed if not self.generation else f"{seed}:g{self.generation}")

    def sync(self) -> None:
        """Re-read the shared clock (a no-op on ``memory://``); verbs call it first."""
        if self.shared and isinstance(self.clock, StoreClock):
            self.clock.refresh()

    # -- auth -------------------------------------------------------------------------------

    def authenticate(self, key: str | None) -> str:
        """The caller's key, or :class:`Unauthorized`."""
        if key is None or not key.strip():
            raise Unauthorized("Unauthorized: missing x-api-key header")
        if self.settings.api_keys and key not in self.settings.api_keys:
            raise Unauthorized("Unauthorized: invalid api key")
        return key

    # -- the faked API ----------------------------------------------------------------------

    def create(
        self,
        owner: str,
        body: Mapping[str, Any],
        base_url: str,
        *,
        scenario: str | None = None,
        pack: Pack | None = None,
    ) -> TaskView:
        """Store a new task from a contract-valid body; it starts ``pending``.

        ``pack`` is the body's pack (looked up when not given). ``scenario`` is an
        ``X-Mock-Scenario`` text (400 if it breaks the grammar). Fields that name another task
        must name a suitable one (400). A create that does not fit the balance is refused with
        402 (a guess: PiAPI documents no status).
        """
        pack = pack or self.packs.lookup(body["model"], body["task_type"])
        return self.create_prepared(
            owner, prepare(pack, body, self.prices), base_url, scenario=scenario
        )

    def create_prepared(
        self,
        owner: str,
        prepared: Prepared,
        base_url: str,
        *,
        scenario: str | None = None,
    ) -> TaskView:
        """:meth:`create` of a body :func:`~mock_server.domain.prepared.prepare` made ready
        (the web layer keeps them by raw bytes: a body sent again is not prepared again)."""
        record, now = self._new_record(owner, prepared, base_url, scenario)
        if self.shared:
            self._add_shared(record, now)
        else:
            self.store.add(record)
            self.ledger.freeze(record)
        return self._created(record, now)

    async def create_prepared_async(
        self,
        owner: str,
        prepared: Prepared,
        base_url: str,
        *,
        scenario: str | None = None,
    ) -> TaskView:
        """:meth:`create_prepared`, on Redis with its store step sent with the concurrent
        requests' in one round trip per event-loop turn (elsewhere it is the same call)."""
        store = self._batched_add
        if store is None:
            return self.create_prepared(owner, prepared, base_url, scenario=scenario)
        record, now = self._new_record(owner, prepared, base_url, scenario)
        shifted = False
        while not await self._add_batched(store, record, now):
            self._shifted(record)
            shifted = True
        self._added(record, shifted)
        return self._created(record, now)

    def _new_record(
        self, owner: str, prepared: Prepared, base_url: str, scenario: str | None
    ) -> tuple[TaskRecord, int]:
        """A create's record (checked, timed, admitted to the queue), not stored yet."""
        now = self.clock.now()
        if now > LATEST_NS:
            raise PiapiError(
                "the virtual clock is past 9000-01-01T00:00:00Z; POST /_mock/reset", 409
            )
        requested = None
        if scenario is not None and self.headers_honoured:
            requested = scenarios.parse(scenario)
        pack, task_input, decision = prepared.pack, prepared.task_input, prepared.decision
        if pack.links:
            check_links(self, owner, pack, task_input)
        cost = prepared.cost
        self._check_credits(owner, cost, now)
        pending_ns, run_ns = decision.draw(self.rng)
        chosen = self.scenarios.choose(owner, task_input, requested)
        failure = None
        if chosen:
            pending_ns, run_ns, failure = chosen.apply(timing.Timing(pending_ns, run_ns))
        base = self.settings.public_url.rstrip("/") or base_url.rstrip("/")
        # positional, in TaskRecord's field order; the prepared body's strings are interned
        record = stored_record(
            uuid4_text(self.rng.getrandbits(128)),  # task_id
            shared_text(owner),
            prepared.model,
            prepared.task_type,
            prepared.input_json,
            prepared.config_json,
            prepared.aspect_ratio,
            cost,
            prepared.private_pool,
            shared_text(base),  # base_url
            now,  # created_at
            now + pending_ns,  # start_at
            run_ns,
            failure,
            None,  # cancelled_at
            prepared.webhook,
            prepared.variant,
            prepared.media,
            pack.charge == "create",  # prepaid
        )
        if self.queue is not None:
            self.queue.admit(record, pending_ns, now)
        return record, now

    def _created(self, record: TaskRecord, now: int) -> TaskView:
        """What follows a stored create: observers, pruning, the answer's view."""
        for observer in self.observers:
            observer.task_created(record)
        self.prune(now)
        return self.view(record)

    def forget(self, record: TaskRecord) -> None:
        """Remove ``record`` as if never created (a create whose answer could not be built).

        In memory only the stored object itself is removed (a reset may have stored a new
        task under the same seeded id); a shared store returns a fresh copy at every read and
        never repeats an id, so there the id decides."""
        stored = self.store.get(record.task_id)
        if stored is None or (stored is not record and not self.shared):
            return
        now = self.clock.now()
        self.store.remove(record.task_id)
        if not _finished(record, now):
            record.cancelled_at = now  # so queue and ledger heaps skip it from now on
            self.ledger.release(record)
            if self.queue is not None:
                self.queue.release(record, now)
        for observer in self.observers:
            observer.task_removed(record)

    def prune(self, now: int) -> None:
        """Drop tasks past ``--retention``, then evict past ``--max-tasks``.

        Each create calls it, and it costs O(PRUNE_WINDOW) store reads whatever the store
        holds: a cursor (``_prune_after``) remembers where the oldest live task starts, so
        removed ones are never walked again. Shared stores check the cap every 64th create
        (``len`` is a round trip there).
        """
        retention = self.settings.retention
        if retention:
            horizon = now - to_ns(retention)
            for _ in range(PRUNE_WINDOW):
                head, cursor = self._oldest()
                if head is None or head.created_at >= horizon:
                    break  # created order is creation-time order: the rest are younger
                self._drop_oldest(head, cursor)
                self.expired += 1
        cap = self.settings.max_tasks
        self._creates += 1
        if not cap or (self.shared and self._creates % 64) or len(self.store) <= cap:
            return
        for _ in range(PRUNE_WINDOW):
            self._evict_one(now)
            if len(self.store) <= cap:
                break

    def _oldest(self) -> tuple[TaskRecord | None, str]:
        found, cursor = self.store.scan(self._prune_after, 1)
        return (found[0] if found else None), cursor

    def _drop_oldest(self, head: TaskRecord, cursor: str) -> None:
        self.forget(head)
        self._prune_after = cursor

    def _drop_finished(self, head: TaskRecord, cursor: str) -> None:
        """:meth:`_drop_oldest` of an ended record the store just handed out: what
        :meth:`forget` does for it, without its checks (it is stored, and it has ended)."""
        self.store.remove(head.task_id)
        for observer in self.observers:
            observer.task_removed(head)
        self._prune_after = cursor

    def _evict_one(self, now: int) -> None:
        """Evict the oldest finished task among the oldest PRUNE_WINDOW (else the oldest)."""
        head, cursor = self._oldest()
        if head is None:
            return
        if _finished(head, now):
            self._drop_finished(head, cursor)
        else:
            window, _ = self.store.scan(self._prune_after, PRUNE_WINDOW)
            victim = next((r for r in window if _finished(r, now)), None)
            if victim is None:
                self._drop_oldest(head, cursor)
            else:
                self.forget(victim)
        self.evicted += 1

    def get(self, owner: str, task_id: str) -> TaskView:
        """The task as it is now, for its owner only."""
        if self.shared:
            return self._get_shared(owner, task_id)
        return self.view(self.record(owner, task_id))

    def cancel(self, owner: str, task_id: str) -> str:
        """Cancel a pending task; the answer's message."""
        self.sync()
        record = self.record(owner, task_id)
        current = self.view(record)
        if current.status is not Status.PENDING:
            raise NotCancellable(
                f"task {task_id} is {current.status.value}: only pending tasks can be canceled"
            )
        record.cancelled_at = self.clock.now()
        self.store.put(record)
        self.ledger.release(record)
        if self.queue is not None:
            self.queue.release(record, record.cancelled_at)
        self._changed(record)
        return f"task {task_id} canceled"

    def account(self, owner: str) -> dict[str, Any]:
        """A simulated ``/account/info`` for ``owner`` (every field real clients read)."""
        self.sync()
        self.catch_up()
        self.ledger.settle(self.clock.now())
        return platform.account_info(self, owner)

    # -- shared stores: one round trip for a create or a get --------------------------------

    def _add_shared(self, record: TaskRecord, now: int) -> None:
        """Store ``record`` and freeze its cost in the shared ledger as one store step (one
        round trip on Redis: 402 if it no longer fits), only if the shared clock is still the
        one its times came from; else re-read the clock, shift the record's times by what it
        moved, and try again."""
        ledger = self.ledger
        assert isinstance(ledger, StoreLedger)
        shifted = False
        while True:
            try:
                stored = ledger.add_with(
                    self.store, record, self._clock_guard(), self._listed(record)
                )
            except InsufficientCredits:
                self._refused_create(record, now)
                raise
            if stored:
                break
            self._shifted(record)
            shifted = True
        self._added(record, shifted)

    async def _add_batched(self, store: BatchedAdd, record: TaskRecord, now: int) -> bool:
        """One try of :meth:`_add_shared`'s store step, batched (False: the clock moved)."""
        ledger = self.ledger
        assert isinstance(ledger, StoreLedger)
        try:
            guard = self._clock_guard()
            return await ledger.add_batched(store, record, guard, self._listed(record))
        except InsufficientCredits:
            self._refused_create(record, now)
            raise

    def _listed(self, record: TaskRecord) -> bool:
        """Whether other processes' webhook senders should find ``record`` (not when the
        policy here refuses its endpoint: this process logs its events, see
        :attr:`hook_refusal`)."""
        hook, refusal = record.webhook, self.hook_refusal
        return hook is None or refusal is None or not refusal(hook.endpoint)

    def _clock_guard(self) -> tuple[str, str] | None:
        clock = self.clock
        return (CLOCK_KEY, clock.raw) if isinstance(clock, StoreClock) else None

    def _refused_create(self, record: TaskRecord, now: int) -> None:
        record.cancelled_at = now  # its place in the concurrency queue is given up
        if self.queue is not None:
            self.queue.release(record, now)

    def _shifted(self, record: TaskRecord) -> None:
        """The shared clock moved since ``record`` was timed: shift its times by as much."""
        clock = self.clock
        assert isinstance(clock, StoreClock)
        shift = clock.resync()
        record.created_at += shift
        if record.start_at is not None:
            record.start_at += shift

    def _added(self, record: TaskRecord, shifted: bool) -> None:
        if shifted and self.queue is not None and record.start_at is not None:
            self.queue.track(record)
        if isinstance(self.queue, StoreQueue) and self.queue.adopt(record):
            self._started(record)  # handed a slot elsewhere before it was stored

    def _get_shared(self, owner: str, task_id: str) -> TaskView:
        """``get`` reading the record and the shared clock in one step (none for a finished
        record this process keeps)."""
        view, token = self._kept_or_token(owner, task_id)
        if view is not None:
            return view
        record, raw = self.store.read(task_id, CLOCK_KEY)
        return self._read_view(owner, task_id, record, raw, token)

    async def get_async(self, owner: str, task_id: str) -> TaskView:
        """:meth:`get`, on Redis with its store read sent with the concurrent requests' in
        one round trip per event-loop turn (elsewhere it is the same call)."""
        store = self._batched_read
        if store is None:
            return self.get(owner, task_id)
        view, token = self._kept_or_token(owner, task_id)
        if view is not None:
            return view
        record, raw = await store.read_batched(task_id, CLOCK_KEY)
        return self._read_view(owner, task_id, record, raw, token)

    def _kept_or_token(self, owner: str, task_id: str) -> tuple[TaskView | None, Token | None]:
        """The view of ``task_id`` if this process keeps it finished; else the finished cache's
        token for the read to come (None without a cache)."""
        finished = self.finished
        if finished is None:
            return None, None
        kept = finished.get(task_id)
        if kept is not None:
            return self._kept_view(owner, task_id, kept), None
        return None, finished.token()

    def _kept_view(self, owner: str, task_id: str, kept: TaskRecord) -> TaskView:
        if kept.owner != owner:
            raise TaskNotFound(task_id)
        return self.view(kept)

    def _read_view(
        self,
        owner: str,
        task_id: str,
        record: TaskRecord | None,
        raw: str | None,
        token: Token | None,
    ) -> TaskView:
        """A get's view of the record (and clock text) it read; kept if it has ended."""
        if isinstance(self.clock, StoreClock):
            self.clock.adopt(raw)
        if record is None or record.owner != owner or self._expired(record):
            raise TaskNotFound(task_id)
        if record.start_at is None and self.queue is not None:
            record = self.queue.resolve(record)  # waiting: its lane's hand-overs first
        view = self.view(record)
        if self.finished is not None and token is not None and view.status.terminal:
            self.finished.keep(token, record)
        return view

    # -- shared helpers ---------------------------------------------------------------------

    def record(self, owner: str, task_id: str) -> TaskRecord:
        """The stored record if ``owner`` may see it and it is within retention."""
        record = self.store.get(task_id)
        if record is None or record.owner != owner or self._expired(record):
            raise TaskNotFound(task_id)
        return record

    def records(self, owner: str | None = None) -> Iterator[TaskRecord]:
        """Stored records (of ``owner`` if given), oldest first, within retention."""
        self.sync()
        self.catch_up()
        for record in self.store:
            if (owner is None or record.owner == owner) and not self._expired(record):
                yield record

    def view(self, record: TaskRecord) -> TaskView:
        """``record`` as it is now."""
        now = self.clock.now()
        if self.queue is not None and self.queue.due(now):
            self.queue.catch_up(now)
        return lifecycle.view(record, now, self.cancel_status)

    def catch_up(self) -> None:
        """Hand freed concurrency slots to waiting tasks up to now (nothing if unlimited).

        Runs before reads and when the clock moves; schedulers that wait can ask
        :meth:`SlotQueue.next_due` (``backend.queue``) when the next hand-over may happen.
        """
        if self.queue is not None:
            now = self.clock.now()
            if self.queue.due(now):
                self.queue.catch_up(now)

    def _check_credits(self, owner: str, cost: int, now: int) -> None:
        """402 unless ``cost`` fits ``owner``'s balance. With unlimited credits nothing is
        checked, so the ledger settles only every :data:`SETTLE_EVERY` creates (in one batch;
        every reader of a wallet settles first): its heap stays bounded."""
        ledger = self.ledger
        self.catch_up()
        if ledger.credits or self.shared or not self._creates % SETTLE_EVERY:
            ledger.settle(now)
        if not ledger.fits(owner, cost):
            raise InsufficientCredits(
                f"insufficient credits: the task costs {cost} points, "
                f"{max(0, ledger.remain(owner))} points remain"
            )

    def _started(self, record: TaskRecord) -> None:
        """A waiting task got a slot: its end is known now."""
        self.store.put(record)
        self.ledger.track(record)
        self._changed(record)

    def is_expired(self, record: TaskRecord) -> bool:
        """Whether ``record`` is past ``--retention`` (it answers 404 until pruned)."""
        return self._expired(record)

    def _expired(self, record: TaskRecord) -> bool:
        retention = self.settings.retention
        return bool(retention) and self.clock.now() - record.created_at > to_ns(retention)

    def _changed(self, record: TaskRecord) -> None:
        for observer in self.observers:
            observer.task_changed(record)

    # -- control ----------------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move virtual time forward and let observers catch up."""
        self.clock.advance(seconds)
        self.catch_up()
        for observer in self.observers:
            observer.clock_moved()

    def set_speed(self, speed: float) -> None:
        """Change the clock's speed (system clock only)."""
        self.clock.set_speed(speed)
        self.catch_up()
        for observer in self.observers:
            observer.clock_moved()

    def reset(self, seed: int | None = None) -> None:
        """Forget every task and log entry; re-seed the random source."""
        if seed is not None:
            self.settings = self.settings.replace(seed=seed)
        self.rng = self._seeded_rng()
        self.prepared.clear()
        self.scenarios.reseed(self.settings.seed)
        self.faults.reseed(self.settings.seed)
        self.sync()
        self.ledger.clear()
        if self.queue is not None:
            self.queue.clear()
        self.store.clear()
        self.journal.clear()
        self.expired = self.evicted = 0
        self._prune_after = None
        rewind = getattr(self.clock, "rewind", None)
        if rewind is not None and self.clock.now() > LATEST_NS:
            rewind()
        if isinstance(self.clock, StoreClock):
            self.clock.save()  # the clock is not forgotten by a reset
        for observer in self.observers:
            observer.reset()

    def fail(self, record: TaskRecord, failure: Failure) -> None:
        """Make ``record`` fail now (409 if it has already ended)."""
        self.force(record, "fail", failure)

    def force(self, record: TaskRecord, action: str, failure: Failure | None = None) -> None:
        """Move a task on now: ``complete``, ``fail`` (with ``failure``) or ``advance``.

        ``advance`` starts a pending task now (even past ``--max-concurrent``) or ends a
        processing one now with its planned outcome (a stuck task completes). ``fail``
        without a ``failure`` uses the catalogue's default reason.
        """
        if action not in FORCE_ACTIONS:
            raise PiapiError(f"invalid request: unknown action {action!r}", 404)
        if action == "fail" and failure is None:
            failure = scenarios.FAILURES[scenarios.DEFAULT_REASON].failure
        self.sync()
        now = self.clock.now()
        current = self.view(record)
        if current.status.terminal:
            raise PiapiError(f"task {record.task_id} is already {current.status.value}", 409)
        if record.start_at is None or record.start_at > now:
            record.start_at = now
            if action == "advance":
                self._rescheduled(record)
                return
        record.run_ns = now - record.start_at
        if action != "advance":
            record.failure = failure if action == "fail" else None
        self._rescheduled(record)

    def _rescheduled(self, record: TaskRecord) -> None:
        self.store.put(record)
        self.ledger.track(record)
        if self.queue is not None:
            self.queue.track(record)
        self._changed(record)


def manual_backend(settings: Settings | None = None) -> tuple[Backend, ManualClock]:
    """A backend on a manual clock (tests and in-process use)."""
    clock = ManualClock()
    return Backend(settings, clock=clock), clock


def _finished(record: TaskRecord, now: int) -> bool:
    """Whether ``record`` has ended (completed, failed or cancelled) at ``now``."""
    if record.cancelled_at is not None:
        return now >= record.cancelled_at
    end = record.end_at
    return end is not None and now >= end
