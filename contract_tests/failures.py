"""Typed contract failures: each says which check and which rule broke, with the evidence."""

from __future__ import annotations

from contract_tests.endpoint import Exchange
from contract_tests.verdicts import Grade


class ContractFailure(AssertionError):
    """A broken contract rule, with the request/response and the schema location.

    ``check`` is the registered check that caught it, ``rule`` the rule's name (a JSON Schema
    keyword such as ``enum`` or a named rule such as ``statuses move forward``), ``pointer``
    the JSON pointer into the offending document, ``schema`` the schema file that says so.
    ``grade`` says where the rule comes from (a guessed rule the server does not share is
    drift, not a violation) and ``fix`` what to change in the pack if it is drift.
    """

    def __init__(
        self,
        check: str,
        rule: str,
        message: str,
        exchange: Exchange | None = None,
        pointer: str = "",
        schema: str = "",
        grade: Grade | None = None,
        fix: str = "",
    ) -> None:
        self.check = check
        self.grade = grade
        self.fix = fix
        self.rule = rule
        self.message = message
        self.exchange = exchange
        self.pointer = pointer
        self.schema = schema
        super().__init__(self.render())

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two failures the same bug (Hypothesis groups by exception origin)."""
        return self.check, self.rule, self.pointer

    def render(self) -> str:
        """A short report: check, rule, pointer, schema, message and the exchange."""
        where = f" at {self.pointer}" if self.pointer else ""
        schema = f" (schema {self.schema})" if self.schema else ""
        text = f"[{self.check}] rule '{self.rule}'{where}{schema}: {self.message}"
        if self.exchange is not None:
            text += "\n  " + self.exchange.describe().replace("\n", "\n  ")
        return text


class SchemaFailure(ContractFailure):
    """A response does not validate against its schema."""


class StatusFailure(ContractFailure):
    """An HTTP status disagrees with the envelope, or a 5xx."""


class AcceptanceFailure(ContractFailure):
    """A valid request was refused, or an invalid one accepted."""


class EchoFailure(ContractFailure):
    """Create did not echo what was sent."""


class PriceFailure(ContractFailure):
    """``usage.frozen`` is not the price table's cost."""


class LifecycleFailure(ContractFailure):
    """A status moved backwards, a timestamp changed or came out of order."""


class VideoFailure(ContractFailure):
    """A completed task's video cannot be fetched."""


class CancelFailure(ContractFailure):
    """Cancel worked when it must not, or failed when it must work."""


class IsolationFailure(ContractFailure):
    """Another key could see a task."""


class WebhookFailure(ContractFailure):
    """A webhook body is invalid or differs from GET at that instant."""


class AuthFailure(ContractFailure):
    """A request without a key was not refused."""
