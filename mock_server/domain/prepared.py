"""A create body made ready once: everything in a task record that follows from the body alone.

:func:`prepare` turns a contract-valid body (and its pack) into a :class:`Prepared`: the
pack's decision (variant, media, timing model), the echoed ``input`` and ``config`` texts,
the webhook target, the price in points. None of it depends on the clock, the store, the
caller or the random source, so one :class:`Prepared` serves every create of the same body;
:meth:`mock_server.domain.backend.Backend.create_prepared` adds what does (id, times, links,
credits, scenarios). :class:`PreparedMemo` keeps the last few bodies' by their raw bytes, so a
client that sends the same body again (a load test, a CI suite's fixture, a retry) skips JSON
decoding, validation and the echoes; a different byte anywhere is a different body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any, Final

from mock_server.domain.models import WebhookTarget, shared_text
from mock_server.domain.pricing import Prices
from mock_server.packs import Pack
from mock_server.packs.model import Decision

# Built once: ``json.dumps`` with options builds a new encoder per call.
_ECHO = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
_ECHO_ASCII = json.JSONEncoder(sort_keys=True, ensure_ascii=True, separators=(",", ":"))
_CONFIG_JSON = '{"service_mode":%s,"webhook_config":{"endpoint":%s,"secret":%s}}'
#: Distinct bodies a memo keeps (the oldest goes first); bodies over MEMO_BODY_BYTES are not kept.
MEMO_SIZE: Final = 256
MEMO_BODY_BYTES: Final = 16 * 1024


def echo_json(value: object) -> str:
    """Compact JSON with sorted keys, as Go marshals a map; lone surrogates stay escaped."""
    text = _ECHO.encode(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _ECHO_ASCII.encode(value)
    return text


def config_json(config: Mapping[str, Any]) -> str:
    """``echo_json`` of a :func:`config_echo` result, assembled as text when it is plain ASCII."""
    hook = config["webhook_config"]
    parts = (config["service_mode"], hook["endpoint"], hook["secret"])
    if all(type(part) is str for part in parts):
        text = _CONFIG_JSON % tuple(map(encode_basestring, parts))
        if text.isascii():
            return text
    return echo_json(config)


def config_echo(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """``config`` as PiAPI's struct echoes it: unknown keys dropped, absent strings ``""``."""
    config = config or {}
    hook = config.get("webhook_config") or {}
    return {
        "service_mode": config.get("service_mode", ""),
        "webhook_config": {"endpoint": hook.get("endpoint", ""), "secret": hook.get("secret", "")},
    }


def webhook_target(config: Mapping[str, Any]) -> WebhookTarget | None:
    """Where the task's webhook events go (None: no endpoint)."""
    hook = config["webhook_config"]
    if not hook["endpoint"]:
        return None
    return WebhookTarget(endpoint=hook["endpoint"], secret=hook["secret"])


@dataclass(frozen=True, slots=True)
class Prepared:
    """What a task record takes from its body alone (see the module docstring)."""

    pack: Pack
    #: The body's ``input`` (read by links, scenario rules; never changed).
    task_input: Mapping[str, Any]
    decision: Decision
    cost: int
    model: str
    task_type: str
    input_json: str
    config_json: str
    aspect_ratio: str
    private_pool: bool
    webhook: WebhookTarget | None
    #: ``decision.variant.key`` and ``decision.media_key``.
    variant: str
    media: str


def prepare(pack: Pack, body: Mapping[str, Any], prices: Prices) -> Prepared:
    """``body`` (contract-valid, of ``pack``) made ready for :meth:`Backend.create_prepared`."""
    task_input: Mapping[str, Any] = body["input"]
    decision = pack.decide(task_input)
    config = config_echo(body.get("config"))
    # The strings most tasks share, interned here once per body: records built from this
    # (``models.stored_record``) take them as they are.
    return Prepared(
        pack=pack,
        task_input=task_input,
        decision=decision,
        cost=prices.decided_points(pack, decision, task_input),
        model=shared_text(str(body["model"])),
        task_type=shared_text(str(body["task_type"])),
        input_json=echo_json(task_input),
        config_json=shared_text(config_json(config)),
        aspect_ratio=shared_text(str(task_input.get("aspect_ratio", "16:9"))),
        private_pool=config["service_mode"] == "private",
        webhook=webhook_target(config),
        variant=shared_text(decision.variant.key),
        media=shared_text(decision.media_key),
    )


class PreparedMemo:
    """The :class:`Prepared` of the last :data:`MEMO_SIZE` distinct valid bodies, by raw bytes.

    Only bodies that passed every check are kept, so a rejected body is always judged anew
    (and answers with its messages). ``clear`` on reset.
    """

    __slots__ = ("_found",)

    def __init__(self) -> None:
        self._found: dict[bytes, Prepared] = {}

    def get(self, raw: bytes) -> Prepared | None:
        """The prepared body for exactly these bytes, or None."""
        return self._found.get(raw)

    def put(self, raw: bytes, prepared: Prepared) -> None:
        """Remember ``prepared`` for ``raw`` (bounded: the oldest entry goes first)."""
        if len(raw) > MEMO_BODY_BYTES:
            return
        found = self._found
        if len(found) >= MEMO_SIZE:
            del found[next(iter(found))]
        found[raw] = prepared

    def clear(self) -> None:
        """Forget every body."""
        self._found.clear()

    def __len__(self) -> int:
        return len(self._found)
