"""The dispatcher: a backend observer that sends what the schedule says is due.

Two ways to run it:

- served (uvicorn runs the lifespan): :meth:`Dispatcher.start` runs a background asyncio task
  (:mod:`mock_server.webhooks.background`) that waits until the next due virtual instant and
  sends at most ``webhook_concurrency`` attempts at once; :meth:`Dispatcher.stop` cancels the
  attempts in flight (they go back to the schedule) and closes the clients.
- in-process (httpx.ASGITransport, the pytest plugin: no lifespan): nothing runs by itself;
  ``await dispatcher.run_until_idle()`` sends everything due at the current virtual instant,
  including retries and next events that fall due while it runs.

Hooks may be called from another thread than the dispatcher's loop (a test thread driving a
served backend): the schedule is guarded by a lock and wake-ups go through
``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import replace

from mock_server.domain.backend import Backend
from mock_server.domain.errors import PiapiError, TaskNotFound
from mock_server.domain.models import TaskRecord
from mock_server.domain.observers import BackendObserver
from mock_server.webhooks import events, sender
from mock_server.webhooks.background import Background
from mock_server.webhooks.events import Event
from mock_server.webhooks.hosts import HostGate
from mock_server.webhooks.log import Attempt, DeliveryLog, refused_attempt
from mock_server.webhooks.policy import AllowList
from mock_server.webhooks.refused_lane import LANE_BATCH
from mock_server.webhooks.schedule import Job, Schedule
from mock_server.webhooks.shared import SharedHooks, StoreDeliveryLog

log = logging.getLogger("piapi_mock.webhooks")
#: Endpoints whose policy verdict is remembered (then forgotten all at once).
_REFUSALS_KEPT = 4096


class Dispatcher(BackendObserver):
    """Sends every task's webhook events; one per backend (see :func:`dispatcher_of`)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.schedule = Schedule(backend.settings)
        size = backend.settings.webhook_log_size
        self.log: DeliveryLog | StoreDeliveryLog = (
            StoreDeliveryLog(backend.store, size) if backend.shared else DeliveryLog(size)
        )
        #: Discovery and claims when the store is shared with other processes (else None).
        self.shared = SharedHooks(backend.store) if backend.shared else None
        self._lock = threading.RLock()
        self._background: Background | None = None
        self.allow = AllowList(backend.settings.webhook_allow)
        self.hosts = HostGate(backend.settings.webhook_per_host)
        self._warned: set[str] = set()
        self._warned_for: set[str] = set()  # reasons already seen (no host to parse out)
        #: Whether the sender will turn to the lane by itself (it is waiting for its tick).
        self._lane_armed = False
        self._refusals: dict[str, str] = {}
        self._refusals_for = -1
        self.log.settle = self.settle_lane  # a reader sees every refused event now due
        backend.hook_refusal = self.refusal  # the creator logs what it refuses (shared.py)

    # -- observer hooks (cheap: called on the request path) ---------------------------------

    def task_created(self, record: TaskRecord) -> None:
        hook = record.webhook
        if hook is not None:
            refused = self.refusal(hook.endpoint)
            if refused:
                self._warn_once(hook.endpoint, refused)
            with self._lock:
                laned = self.schedule.plan(record, refused)
                wake = not laned or not self._lane_armed
                self._lane_armed = self._lane_armed or laned
            if wake:  # the lane is worked off in turns: wake only to arm the next one
                self._poke()

    def task_changed(self, record: TaskRecord) -> None:
        self.task_created(record)

    def task_removed(self, record: TaskRecord) -> None:
        with self._lock:
            self.schedule.forget(record.task_id)

    def clock_moved(self) -> None:
        self._poke()

    def reset(self) -> None:
        with self._lock:
            self.schedule.configure(self.backend.settings)
            self.schedule.clear()
            self.hosts.clear()
            self.log.clear()
        self._poke()

    def _poke(self) -> None:
        background = self._background
        if background is not None:
            background.poke()

    # -- the explicit API (in-process use) --------------------------------------------------

    async def deliver_due(self) -> list[Attempt]:
        """Send every attempt due now (bounded concurrency); the attempts made."""
        async with self._borrow_client() as client:
            return await self._round(client)

    async def run_until_idle(self, max_rounds: int = 1000) -> list[Attempt]:
        """Send until nothing is due at the current virtual instant; every attempt made."""
        made: list[Attempt] = []
        async with self._borrow_client() as client:
            for _ in range(max_rounds):
                attempts = await self._round(client)
                if not attempts:
                    break
                made += attempts
        return made

    def redeliver(self, task_id: str, status: str | None = None) -> list[Event]:
        """Queue a reached event of ``task_id`` again (default: the latest), due now."""
        record = self.backend.store.get(task_id)
        if record is None:
            raise TaskNotFound(task_id)
        if record.webhook is None:
            raise PiapiError(f"task {task_id} has no webhook endpoint", status=409)
        now = self.backend.clock.now()
        cancel_status = self.schedule.cancel_status
        reached = [e for e in events.task_events(record, "all", cancel_status) if e.at_ns <= now]
        chosen = [e for e in reached if e.status.value == status] if status else reached[-1:]
        if not chosen:
            raise PiapiError(f"task {task_id} has not reached {status!r}", status=409)
        with self._lock:
            if self.shared is not None:  # every process plans it, one sends it
                self.shared.ask(self.schedule, record, chosen, now, self.refusal)
            else:
                self.schedule.redeliver(record, chosen, now)
        self._poke()
        return chosen

    def pending(self) -> int:
        """Events not yet concluded (in flight included)."""
        with self._lock:
            return self.schedule.queued()

    def next_due(self) -> int | None:
        """The earliest virtual instant an attempt is due (None: nothing is scheduled)."""
        with self._lock:
            return self.schedule.next_due()

    def sending_due(self) -> int | None:
        """The earliest virtual instant an attempt to send is due (None: none)."""
        with self._lock:
            return self.schedule.sending_due()

    def lane_due(self) -> int | None:
        """The earliest virtual instant an event of the refused lane is due (None: none);
        the sender asks before it waits, so a new task in the lane wakes it only if none
        was there."""
        with self._lock:
            due = self.schedule.lane.next_due()
            self._lane_armed = due is not None
            return due

    def take(self, limit: int) -> list[Job]:
        """Up to ``limit`` attempts due now (their tasks are busy until the attempt ends)."""
        with self._lock:
            if self.shared is None:
                return self.schedule.take(self.now(), limit, self._admit)
            self.shared.discover(self.schedule, refused=self.refusal)
            now = self.now()
            taken = self.schedule.take(now, limit, self._admit)
            refused: list[Job] = []
            vetted: list[Job] = []
            for job in taken:
                (refused if self.refusal(job.target.endpoint) else vetted).append(job)
            kept = self.shared.vet(self.schedule, vetted, now)
            sending = {id(job) for job in kept}
            for job in vetted:
                if id(job) not in sending:
                    self._host_done(job, None)
            return kept + refused  # refused ones: this process created them (discover)

    def _admit(self, endpoint: str) -> str | None:
        """None if an attempt to ``endpoint`` may start now, else its (full) host's key.

        An endpoint the policy refuses takes no slot: nothing is sent to it, and its
        attempts are concluded at once (:meth:`conclude_refused`)."""
        if self.refusal(endpoint):
            return None
        key = self.hosts.key(endpoint)
        return None if self.hosts.try_acquire(key) else key

    def _host_done(self, job: Job, ok: bool | None) -> None:
        """Give the job's host slot back (under the lock); parked attempts may then start."""
        if self.refusal(job.target.endpoint):
            return  # it took no slot (see _admit)
        key = self.hosts.key(job.target.endpoint)
        if self.hosts.release(key, ok):
            self.schedule.unpark(key, self.hosts.room(key))

    def now(self) -> int:
        """The backend's virtual time."""
        return self.backend.clock.now()

    @contextlib.asynccontextmanager
    async def _borrow_client(self) -> AsyncIterator[sender.Clients]:
        background = self._background
        if background is not None and background.loop is asyncio.get_running_loop():
            yield background.clients
            return
        settings = self.backend.settings
        async with sender.Clients(
            settings.webhook_concurrency, settings.webhook_timeout
        ) as clients:
            yield clients

    async def _round(self, client: sender.Clients) -> list[Attempt]:
        lane = self.conclude_lane(limit=1 << 30)
        jobs = self.take(limit=1 << 30)
        if not jobs:
            return lane
        slots = asyncio.Semaphore(max(1, self.backend.settings.webhook_concurrency))

        async def bounded(job: Job) -> list[Attempt]:
            async with slots:
                return await self.attempt(client, job)

        done = await asyncio.gather(*(bounded(job) for job in jobs))
        return lane + [attempt for attempts in done for attempt in attempts]

    def conclude_lane(self, limit: int = LANE_BATCH) -> list[Attempt]:
        """Conclude up to ``limit`` events due in the schedule's refused lane: each is
        logged as not sent (as :meth:`conclude_refused` logs one from the schedule), at the
        instant the event fell due. The attempts logged."""
        made: list[Attempt] = []
        self._work_lane(limit, made)
        return made

    def _work_lane(self, limit: int, made: list[Attempt] | None = None) -> int:
        """:meth:`conclude_lane` without building attempts unless asked; how many."""
        with self._lock:
            due = self.schedule.lane.due(self.now(), limit)
            count = self.log.record_refused(due)
        if made is not None:
            for task_id, url, refused, lines in due:
                made += [refused_attempt(e, task_id, url, at, refused) for at, e in lines]
        return count

    def work_lane(self) -> int:
        """One turn of the sender on the refused lane; how many events it concluded."""
        return self._work_lane(LANE_BATCH)

    def settle_lane(self) -> None:
        """Conclude every refused event due now (what a reader of the log sees first)."""
        self._work_lane(1 << 30)

    # -- one attempt ------------------------------------------------------------------------

    async def attempt(self, client: sender.Clients, job: Job) -> list[Attempt]:
        """Make one attempt, log it, and tell the schedule (a retry, or the next event).

        Cancelled (server shutdown), the job goes back to the schedule unattempted.
        """
        refused = self.conclude_refused(job)
        if refused is not None:
            return refused
        started = self.now()
        try:
            outcome = await self._safe_send(client, job)
        except asyncio.CancelledError:
            with self._lock:
                self._host_done(job, None)
                self.schedule.release(job)
            raise
        made = [self._entry(job, started, outcome, "")]
        if outcome.ok and self.schedule.chaos.duplicate():
            again = await self._safe_send(client, job)
            made.append(self._entry(job, self.now(), again, "duplicate"))
        return self._conclude(job, made, outcome)

    def conclude_refused(self, job: Job) -> list[Attempt] | None:
        """Conclude at once an attempt whose endpoint the policy refuses (None: it may be
        sent): logged as not sent, given up, without a connection, a task or a body built."""
        url = job.target.endpoint
        refused = self.refusal(url)
        if not refused:
            return None
        self._warn_once(url, refused)
        outcome = sender.Outcome(None, refused, 0.0, retryable=False)
        with self._lock:
            now = self.now()
            result = self.schedule.finish(job, False, False, now)
            if job.epoch != self.schedule.epoch:
                return []
            entry = self._entry(job, now, outcome, "", result.value)
            self.log.record(entry)
        self._poke()
        return [entry]

    def refusal(self, url: str) -> str:
        """Why the policy refuses ``url`` ("" if it may be called), memoised per endpoint
        while the fake's own addresses stay the same."""
        listening = self.backend.listening
        if len(listening) != self._refusals_for:
            self._refusals.clear()
            self._refusals_for = len(listening)
        found = self._refusals.get(url)
        if found is None:
            found = self.allow.refusal(url, listening)
            if len(self._refusals) >= _REFUSALS_KEPT:
                self._refusals.clear()
            self._refusals[url] = found
        return found

    def _conclude(self, job: Job, made: list[Attempt], outcome: sender.Outcome) -> list[Attempt]:
        with self._lock:
            self._host_done(job, outcome.ok if outcome.status or outcome.retryable else None)
            result = self.schedule.finish(job, outcome.ok, outcome.retryable, self.now())
            if job.epoch != self.schedule.epoch:
                return []
            made[0] = replace(made[0], result=result.value)
            for entry in made:
                self.log.record(entry)
        self._poke()
        return made

    async def _safe_send(self, client: sender.Clients, job: Job) -> sender.Outcome:
        try:
            return await self._send(client, job)
        except Exception as exc:  # a bug here must not stall the task's queue
            log.exception("webhook attempt for task %s failed unexpectedly", job.task_id)
            error = f"not sent: {type(exc).__name__}: {exc}"
            return sender.Outcome(None, error, 0.0, retryable=False)

    async def _send(self, client: sender.Clients, job: Job) -> sender.Outcome:
        settings = self.backend.settings
        url = job.target.endpoint
        headers = events.headers(job.target)
        return await sender.post(client, url, job.body, headers, settings.webhook_timeout)

    def _warn_once(self, url: str, refused: str) -> None:
        """Log a refused endpoint's reason once per host (bounded), never its full URL."""
        if refused in self._warned_for:
            return
        if len(self._warned_for) < 1000:
            self._warned_for.add(refused)
        host = refused.split("'")[1] if refused.count("'") >= 2 else url[:64]
        if host not in self._warned and len(self._warned) < 1000:
            self._warned.add(host)
            log.warning("webhook not sent: %s", refused)

    def _entry(
        self, job: Job, at_ns: int, outcome: sender.Outcome, chaos: str, result: str = ""
    ) -> Attempt:
        return Attempt(
            event=job.event.status.value,
            task_id=job.task_id,
            url=job.target.endpoint,
            attempt=job.attempt,
            at_ns=at_ns,
            status=outcome.status,
            error=outcome.error,
            latency_ms=outcome.latency_ms,
            result=result or ("delivered" if outcome.ok else "failed"),
            redelivery=job.event.redelivery,
            chaos=chaos or job.chaos,
        )

    # -- served: the background task --------------------------------------------------------

    async def start(self) -> None:
        """Run the background sender in the server's event loop (idempotent)."""
        if self._background is None:
            self._background = Background(self)

    async def stop(self) -> None:
        """Cancel the sender and every attempt in flight; close its clients."""
        background, self._background = self._background, None
        if background is not None:
            await background.stop()

    async def wait_idle(self, timeout: float = 5.0) -> bool:
        """Served mode: wait (at most ``timeout`` wall seconds) until nothing is in flight or
        due now; whether it got there. Call it in the server's event loop."""
        if self._background is None:
            raise RuntimeError("the background sender is not running (use run_until_idle)")
        return await self._background.wait_idle(timeout)
