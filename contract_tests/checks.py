"""The checks: small registered functions that raise a typed :class:`ContractFailure`.

Each check has a one-line docstring (``piapi-mock contract --list-checks`` prints them) and
takes the evidence it judges: an :class:`Exchange`, the body sent, a task's history. Checks
over time live in :mod:`contract_tests.lifecycle_checks`; this module registers both sets.
A :class:`Checker` runs checks by name and skips the ones a user turned off. It also turns
what is not a violation into its own verdict (:mod:`contract_tests.verdicts`): a failure of a
guessed rule is drift, and a check of an answer that stayed 429 after the retries could not
judge anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from contract_tests import failures as f
from contract_tests import lifecycle_checks
from contract_tests.endpoint import MISSING, Exchange
from contract_tests.invalid import Invalid
from contract_tests.prices import Prices
from contract_tests.registry import CHECKS, TERMINAL, Check, check, guessed, task_of
from contract_tests.verdicts import Drift, Tally, Unjudged, grade_of
from mock_server.schema_registry import KINDS, default_registry

#: Checks about the shape of any answer: they judge a 429 as well as a 200.
SHAPE_CHECKS: Final = frozenset(
    {"not_server_error", "code_matches_status", "json_content_type", "envelope_valid"}
)

# -- every response --------------------------------------------------------------------------


@check
def not_server_error(exchange: Exchange) -> None:
    """No answer is a 5xx: bad input gets a 4xx, valid input a 200."""
    if exchange.status >= 500:
        raise f.StatusFailure("not_server_error", "no 5xx", "the server failed", exchange)


@check
def code_matches_status(exchange: Exchange) -> None:
    """The answer is a JSON envelope whose ``code`` equals the HTTP status."""
    body = exchange.json
    if not isinstance(body, dict) or "code" not in body:
        raise f.StatusFailure("code_matches_status", "json envelope", "not an envelope", exchange)
    if body["code"] != exchange.status:
        message = f"HTTP {exchange.status} but envelope code {body['code']!r}"
        raise f.StatusFailure(
            "code_matches_status", "code = HTTP status", message, exchange, "/code"
        )


@check
def json_content_type(exchange: Exchange) -> None:
    """A JSON envelope is served as ``application/json``."""
    media = exchange.content_type.split(";")[0].strip().lower()
    if exchange.json is not MISSING and media != "application/json":
        message = f"Content-Type {exchange.content_type!r} for a JSON envelope"
        raise f.StatusFailure("json_content_type", "json media type", message, exchange)


@check
def envelope_valid(exchange: Exchange, kind: str = "response") -> None:
    """A 200 validates as ``kind`` (task envelope or cancel answer), an error as the envelope."""
    kind = kind if exchange.status == 200 else "error"
    found = default_registry().errors(kind, exchange.json)
    if found:
        first = found[0]
        message = "; ".join(str(v) for v in found[:3])
        raise f.SchemaFailure(
            "envelope_valid",
            first.rule,
            message,
            exchange,
            first.pointer,
            KINDS[kind],
            grade_of(first),
            f"relax the guessed rule '{first.rule}' at {first.pointer or '/'} of {KINDS[kind]}",
        )


# -- create ----------------------------------------------------------------------------------


@check
def valid_accepted(exchange: Exchange) -> None:
    """A contract-valid create request is accepted with HTTP 200."""
    if exchange.status != 200:
        message = f"a valid request got HTTP {exchange.status}"
        raise f.AcceptanceFailure("valid_accepted", "valid request accepted", message, exchange)


@check
def invalid_rejected(exchange: Exchange, invalid: Invalid) -> None:
    """A request breaking one rule gets a 4xx error envelope, never a 200 or a 5xx."""
    if not 400 <= exchange.status < 500:
        message = f"{invalid.name}: got HTTP {exchange.status}, a 4xx was due"
        raise f.AcceptanceFailure(
            "invalid_rejected",
            invalid.rule,
            message,
            exchange,
            invalid.pointer,
            invalid.schema,
            invalid.grade,
            f"the server accepts it: drop or relax '{invalid.rule}' at {invalid.pointer} "
            f"in {invalid.schema} (or mark it as what this server does)",
        )


@guessed("PiAPI publishes no error bodies; we expect the message to name the field")
def error_names_field(exchange: Exchange, invalid: Invalid) -> None:
    """The error message of a refused request (a 4xx) names the offending field."""
    if not 400 <= exchange.status < 500:
        return  # judged on refusals only: a 200 or 5xx is another check's business
    field = next((p for p in reversed(invalid.pointer.split("/")) if not p.isdigit()), "")
    body = exchange.json
    message = str(body.get("message", "")) if isinstance(body, dict) else exchange.text
    if field and field.lower() not in message.lower():
        # One root cause however many fields: the rule is about messages, not one field.
        raise f.AcceptanceFailure(
            "error_names_field",
            "error names the field",
            f"the message of a refused {invalid.pointer} [{invalid.rule}] does not name {field!r}",
            exchange,
            fix="error messages need not name the field: --skip-check error_names_field",
        )


@check
def created_pending(exchange: Exchange) -> None:
    """Create answers the whole task, still ``pending`` (no time has passed for it)."""
    status = task_of(exchange).get("status")
    if status not in {"pending", "staged"}:
        message = f"a new task is {status!r}, not pending"
        raise f.LifecycleFailure(
            "created_pending", "created pending", message, exchange, "/data/status"
        )


@check
def create_echoes(exchange: Exchange, body: Mapping[str, Any]) -> None:
    """Create echoes the request's ``input`` exactly and the ``config`` values sent."""
    task = task_of(exchange)
    if task.get("input") != body.get("input"):
        raise f.EchoFailure("create_echoes", "input echo", "input differs", exchange, "/data/input")
    sent, echo = body.get("config") or {}, task.get("config") or {}
    for key in ("service_mode", "webhook_config/endpoint", "webhook_config/secret"):
        want, got = _dig(sent, key), _dig(echo, key)
        if got is not MISSING and got != (want if want is not MISSING else ""):
            message = f"config {key}: sent {_show(want)}, echoed {got!r}"
            raise f.EchoFailure("create_echoes", "config echo", message, exchange, "/data/config")


def _dig(value: Any, path: str) -> Any:
    for key in path.split("/"):
        if not isinstance(value, dict) or key not in value:
            return MISSING
        value = value[key]
    return value


def _show(value: Any) -> str:
    return "nothing" if value is MISSING else repr(value)


@check
def frozen_is_price(exchange: Exchange, body: Mapping[str, Any], prices: Prices) -> None:
    """``meta.usage.frozen`` equals the price table's cost of the input, in points."""
    usage = task_of(exchange).get("meta", {}).get("usage", {})
    want = prices.points(body["input"])
    at_create = getattr(prices, "frozen_at_create", None)
    frozen, consume = at_create(want) if at_create else (want, usage.get("consume"))
    if usage.get("frozen") != frozen or usage.get("consume") != consume:
        message = (
            f"frozen {usage.get('frozen')!r} and consume {usage.get('consume')!r}, the"
            f" {prices.name} table says {frozen} and {consume}"
        )
        raise f.PriceFailure("frozen_is_price", "price", message, exchange, "/data/meta/usage")


@check
def completed_consumes_price(exchange: Exchange) -> None:
    """A completed task consumes exactly its frozen price (``consume == frozen``)."""
    task = task_of(exchange)
    usage = task.get("meta", {}).get("usage", {})
    if task.get("status") == "completed" and usage.get("consume") != usage.get("frozen"):
        message = f"completed with consume {usage.get('consume')!r}, frozen {usage.get('frozen')!r}"
        raise f.PriceFailure(
            "completed_consumes_price", "consume = frozen", message, exchange, "/data/meta/usage"
        )


# -- the free checks (no task is created) ----------------------------------------------------


@check
def auth_required(exchange: Exchange) -> None:
    """A request without an API key is refused with a 401 (or 403) error envelope."""
    if exchange.status not in {401, 403}:
        message = f"no key, got HTTP {exchange.status}"
        raise f.AuthFailure("auth_required", "key required", message, exchange, "/x-api-key")


@check
def unknown_task_not_found(exchange: Exchange) -> None:
    """An unknown task id gets a 4xx error envelope, never a task."""
    if not 400 <= exchange.status < 500 or task_of(exchange):
        message = f"unknown id, got HTTP {exchange.status}"
        raise f.StatusFailure("unknown_task_not_found", "unknown id is 4xx", message, exchange)


@check
def junk_rejected(exchange: Exchange) -> None:
    """A body that is not a valid create request gets a 4xx, never a 200 or a 5xx."""
    if not 400 <= exchange.status < 500:
        message = f"a junk body got HTTP {exchange.status}"
        raise f.AcceptanceFailure("junk_rejected", "junk is 4xx", message, exchange)


class Checker:
    """Runs registered checks by name, except those in ``skip``; counts what ran, per phase.

    A failure of a guessed rule is recorded as drift and does not raise; a check (other than
    the shape checks) of an answer that stayed 429 records "could not judge". Both return
    False, so the caller stops judging that answer; a passed check returns True.
    """

    def __init__(self, skip: Iterable[str] = ()) -> None:
        self.skip = frozenset(skip)
        unknown = self.skip - set(CHECKS)
        if unknown:
            raise ValueError(f"unknown checks: {', '.join(sorted(unknown))}")
        self.counts: dict[str, int] = {}
        #: (phase, check) -> how often it ran.
        self.by_phase: dict[tuple[str, str], int] = {}
        self.phase = ""
        self.tally = Tally()
        #: Every violation raised in the current phase (kept in case Hypothesis cannot
        #: replay it, e.g. a failure that depends on when a webhook arrived).
        self.raised: list[f.ContractFailure] = []

    def __call__(self, name: str, *args: Any) -> bool:
        if name in self.skip:
            return True
        exchange = next((a for a in args if isinstance(a, Exchange)), None)
        if exchange is not None and exchange.throttled and name not in SHAPE_CHECKS:
            reason = f"HTTP 429 after {exchange.attempts} attempt(s), not an answer to judge"
            self.tally.add_unjudged(Unjudged(self.phase, name, reason, exchange.describe()))
            return False
        self.counts[name] = self.counts.get(name, 0) + 1
        key = (self.phase, name)
        self.by_phase[key] = self.by_phase.get(key, 0) + 1
        try:
            CHECKS[name].function(*args)
        except f.ContractFailure as failure:
            failure.grade = failure.grade or CHECKS[name].grade
            if failure.grade is None or not failure.grade.is_guess:
                self.raised.append(failure)
                raise
            self.tally.add_drift(_drift(self.phase, failure))
            return False
        return True


def _drift(phase: str, failure: f.ContractFailure) -> Drift:
    assert failure.grade is not None
    evidence = failure.message
    if failure.exchange is not None:
        evidence += "\n" + failure.exchange.describe(300)
    fix = failure.fix or f"relax or drop the guessed rule '{failure.rule}' in the pack"
    return Drift(
        phase, failure.check, failure.rule, failure.pointer, failure.grade.source, evidence, fix
    )


__all__ = ["CHECKS", "TERMINAL", "Check", "Checker", "lifecycle_checks", "task_of"]
