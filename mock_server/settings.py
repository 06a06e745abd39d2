"""One vocabulary for configuration: CLI flags, ``PIAPI_MOCK_*`` variables, marker keywords.

:class:`Settings` is the only place defaults live; :func:`from_env` is the only place the
environment is read. A field ``max_concurrent`` is the flag ``--max-concurrent``, the variable
``PIAPI_MOCK_MAX_CONCURRENT`` and the pytest marker keyword ``max_concurrent``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

ENV_PREFIX: Final = "PIAPI_MOCK_"
MIB: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything that shapes the fake's behaviour. Every field has a safe default."""

    host: str = "127.0.0.1"
    port: int = 8000
    #: Virtual seconds per wall second (``--speed 100``: an 80 s render takes 0.8 s).
    speed: float = 1.0
    #: Seeds task ids, timings, simulated outcomes and faults.
    seed: int = 0
    #: Accepted keys; empty means any non-empty key.
    api_keys: tuple[str, ...] = ()
    #: A price table name (``seed``, ``2026-02-13``: ``prices/<name>.json`` in each pack that
    #: has it, the pack's ``default`` elsewhere) or a JSON file path (a table for the omni pack).
    price_table: str = "seed"
    #: Serve the ``/_mock`` control plane.
    control: bool = True
    #: Status a cancelled task shows: ``failed`` (every client stops) or ``cancelled``.
    cancel_status: str = "failed"
    max_body_bytes: int = MIB
    journal_size: int = 1000
    #: Base of the video URLs; default: the base URL of the create request.
    public_url: str = ""
    #: Account balance in USD; 0 means unlimited.
    credits_usd: float = 0.0
    #: Tasks processing at once per key; 0 means unlimited.
    max_concurrent: int = 0
    #: Seconds after creation at which a task is forgotten (404); 0 keeps them.
    retention: float = 0.0
    #: Share of tasks that fail (seeded).
    failure_rate: float = 0.0
    #: ``all`` (created, processing, terminal) or ``terminal``.
    webhook_events: str = "all"
    webhook_attempts: int = 3
    webhook_retry_delay: float = 5.0
    webhook_timeout: float = 10.0
    webhook_concurrency: int = 32
    #: Where webhooks may go, ``host[:port]`` (``*``: anywhere); empty: loopback and private
    #: networks only (offline by default).
    webhook_allow: tuple[str, ...] = ()
    #: Record contract violations of client requests at ``/_mock/violations``.
    strict: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)
    # scenarios and faults
    #: Extra seeded outcome rates, ``SCENARIO=RATE`` (``stuck=0.01``, ``fail:content_policy=0.05``).
    scenario_rates: tuple[str, ...] = ()
    #: Honour the ``X-Mock-Scenario`` and ``X-Mock-Fault`` request headers.
    scenario_headers: bool = True
    #: Share of API calls (create, get, cancel, account) answered with ``fault_kind`` (seeded).
    fault_rate: float = 0.0
    #: The fault ``fault_rate`` injects, in the ``X-Mock-Fault`` grammar (``latency:50-500``).
    fault_kind: str = "503"
    # webhooks
    #: Webhook attempts kept in the delivery log (``/_mock/webhooks``).
    webhook_log_size: int = 10000
    #: Chaos (seeded, off by default): share of delivered events sent twice.
    webhook_chaos_duplicate: float = 0.0
    #: Share of events whose first attempt is delayed by up to ``webhook_chaos_max_delay`` s.
    webhook_chaos_delay: float = 0.0
    webhook_chaos_max_delay: float = 30.0
    #: Share of events held back behind the task's next event (out-of-order delivery).
    webhook_chaos_reorder: float = 0.0
    # hardening (hard, issue #11)
    #: When set, every ``/_mock`` request must present this token (``X-Mock-Control-Token``
    #: or ``Authorization: Bearer``); empty: the control plane is open.
    control_token: str = ""
    #: Tasks kept at most; past it the oldest finished tasks are evicted first (counted in
    #: ``/_mock/health``). 0 means no cap.
    max_tasks: int = 100_000
    #: Webhook attempts in flight per receiving host (a failing host backs off to 1).
    webhook_per_host: int = 4
    #: Seconds a connection may take to send a request's headers (also: to send a first
    #: request at all); then it is closed. 0 turns the watchdog off.
    header_timeout: float = 10.0
    #: Seconds each read of a request body may take; then 408. 0: no limit.
    body_timeout: float = 30.0
    #: Seconds an idle keep-alive connection is kept open.
    idle_timeout: float = 5.0
    #: Seconds SIGTERM waits for requests in flight before cancelling them and exiting.
    shutdown_timeout: float = 3.0
    # stores and workers (store, issue #13)
    #: Where state lives: ``memory://`` (this process), ``sqlite:///PATH`` (survives a
    #: restart), ``redis://HOST:PORT/DB`` (shared by workers and hosts).
    store: str = "memory://"
    #: Worker processes of ``serve`` (more than 1 needs a shared store).
    workers: int = 1

    # task-type packs (issue 10)
    #: Extra pack folders (a pack, or a folder of packs); they replace shipped packs of the
    #: same ``(model, task_type)``.
    packs: tuple[str, ...] = ()
    #: ``all`` enforces every rule; ``documented`` only documented and observed rules
    #: (guessed rules are not enforced, like a lenient real server).
    strictness: str = "all"

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied (names as the fields)."""
        unknown = set(changes) - set(field_names())
        if unknown:
            raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)


def field_names() -> list[str]:
    """The names of every setting (as marker keywords and ``Settings`` fields)."""
    return [f.name for f in dataclasses.fields(Settings) if f.name != "extra"]


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _parse_tuple(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


PARSERS: Final[Mapping[str, Callable[[str], Any]]] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": _parse_bool,
    "tuple[str, ...]": _parse_tuple,
}


def parser_for(name: str) -> Callable[[str], Any]:
    """How to read setting ``name`` from text (environment or CLI)."""
    kind = next(f.type for f in dataclasses.fields(Settings) if f.name == name)
    return PARSERS[str(kind)]


def from_env(environ: Mapping[str, str] | None = None, base: Settings | None = None) -> Settings:
    """Settings from ``PIAPI_MOCK_*`` variables over ``base`` (default: the defaults)."""
    env = os.environ if environ is None else environ
    changes: dict[str, Any] = {}
    for name in field_names():
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            try:
                changes[name] = parser_for(name)(raw)
            except ValueError as exc:
                raise ValueError(f"{ENV_PREFIX}{name.upper()}: {exc}") from exc
    return (base or Settings()).replace(**changes)
