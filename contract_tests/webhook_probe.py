"""Probe a user's webhook handler: forged, duplicated and out-of-order PiAPI deliveries.

PiAPI authenticates a webhook only by the ``x-webhook-secret`` header (equal to the task's
``webhook_config.secret``), retries a delivery that failed (so a handler sees duplicates),
and gives no ordering guarantee across retries (a late ``processing`` after ``completed``).
A sound handler therefore:

* accepts (2xx) a genuine delivery;
* rejects (non-2xx) a delivery without the header, with a wrong secret, or with an empty one;
* accepts a duplicate, and a late, out-of-order event, without going back: if you give
  ``status_of(task_id)`` (what your application now believes), it must still say
  ``completed`` after a late ``processing``.

:meth:`WebhookProbe.check` sends every case to a URL (through any ``httpx.Client``, e.g. one
with an ASGI transport around your app) or to a plain function ``handler(headers, body) ->
status``, and raises :class:`WebhookHandlerError` naming each case the handler got wrong.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from mock_server.resources import fixtures_dir

Handler = Callable[[dict[str, str], bytes], int]
StatusOf = Callable[[str], "str | None"]
_STAMPS: Final = {
    "pending": ("2026-02-07T02:31:17Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
    "processing": ("2026-02-07T02:31:17Z", "2026-02-07T02:31:18Z", "0001-01-01T00:00:00Z"),
    "completed": ("2026-02-07T02:31:17Z", "2026-02-07T02:31:18Z", "2026-02-07T02:32:40Z"),
}


def webhook_body(task_id: str, status: str, secret: str, endpoint: str) -> dict[str, Any]:
    """A PiAPI webhook body ``{timestamp, data}`` for ``task_id`` in ``status``."""
    seed = json.loads((fixtures_dir() / "examples" / "seed-response.json").read_text("utf-8"))
    task: dict[str, Any] = seed["data"]
    created, started, ended = _STAMPS[status]
    task.update(task_id=task_id, status=status)
    task["config"]["webhook_config"] = {"endpoint": endpoint, "secret": secret}
    task["meta"].update(created_at=created, started_at=started, ended_at=ended)
    if status == "completed":
        task["output"]["video"] = f"https://storage.theapi.app/videos/{task_id}.mp4"
        task["meta"]["usage"]["consume"] = task["meta"]["usage"]["frozen"]
    return {"timestamp": 1770431540, "data": task}


@dataclass(frozen=True, slots=True)
class Case:
    """One delivery sent, what a sound handler does with it, and what this one did."""

    name: str
    task_id: str
    status: str
    expected: str
    answer: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        """The handler did what a sound one does."""
        if self.answer is None:
            return False
        accepted = 200 <= self.answer < 300
        return accepted if self.expected == "accept" else not accepted

    def __str__(self) -> str:
        got = self.error or f"HTTP {self.answer}"
        return f"{self.name} (task {self.task_id}, {self.status}): {self.expected} due, got {got}"


class WebhookHandlerError(AssertionError):
    """The handler accepted a forgery, refused a genuine delivery or went back in time."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("the webhook handler is not safe:\n  " + "\n  ".join(problems))


@dataclass
class WebhookProbe:
    """Sends the cases; ``cases`` and ``problems`` keep what happened."""

    secret: str = "probe-secret"
    timeout: float = 10.0
    cases: list[Case] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def check(
        self,
        url: str = "http://127.0.0.1/webhook",
        *,
        secret: str | None = None,
        client: httpx.Client | None = None,
        handler: Handler | None = None,
        status_of: StatusOf | None = None,
    ) -> list[Case]:
        """Send every case; raise :class:`WebhookHandlerError` if the handler got any wrong.

        ``secret`` is the one your handler expects (default: :attr:`secret`). Deliveries go
        to ``handler(headers, body)`` if given, else to ``url`` through ``client`` (a new
        ``httpx.Client`` if none).
        """
        secret = self.secret if secret is None else secret
        if not secret:
            raise ValueError("a webhook secret is needed to tell a forgery from a delivery")
        send = handler or _poster(url, client, self.timeout)
        self.cases, self.problems = [], []
        forged_id, ordered_id = _task_id("forged"), _task_id("late")

        def deliver(name: str, task_id: str, status: str, header: str | None, expect: str) -> None:
            headers = {"content-type": "application/json"}
            if header is not None:
                headers["x-webhook-secret"] = header
            body = json.dumps(webhook_body(task_id, status, secret, url)).encode()
            try:
                case = Case(name, task_id, status, expect, send(headers, body))
            except (httpx.HTTPError, OSError) as exc:
                case = Case(name, task_id, status, expect, None, f"{type(exc).__name__}: {exc}")
            self.cases.append(case)
            if not case.ok:
                self.problems.append(str(case))

        deliver("no x-webhook-secret", forged_id, "completed", None, "reject")
        deliver("wrong secret", forged_id, "completed", secret + "-forged", "reject")
        deliver("empty secret", forged_id, "completed", "", "reject")
        deliver("secret's prefix", forged_id, "completed", secret[:-1], "reject")
        deliver("genuine", ordered_id, "processing", secret, "accept")
        deliver("genuine", ordered_id, "completed", secret, "accept")
        deliver("duplicate", ordered_id, "completed", secret, "accept")
        deliver("out of order (late processing)", ordered_id, "processing", secret, "accept")
        self._judge_state(status_of, forged_id, ordered_id)
        if self.problems:
            raise WebhookHandlerError(self.problems)
        return self.cases

    def _judge_state(self, status_of: StatusOf | None, forged: str, ordered: str) -> None:
        if status_of is None:
            return
        if status_of(forged) not in (None, "", "pending"):
            self.problems.append(f"a forgery changed task {forged}: now {status_of(forged)!r}")
        now = status_of(ordered)
        if now != "completed":
            self.problems.append(
                f"task {ordered} is {now!r} after completed, a duplicate and a late "
                "processing: a late event must not move a task back"
            )


def _task_id(kind: str) -> str:
    return f"probe-{kind}-{uuid.uuid4()}"


def _poster(url: str, client: httpx.Client | None, timeout: float) -> Handler:
    def post(headers: dict[str, str], body: bytes) -> int:
        if client is not None:
            return client.post(url, content=body, headers=headers).status_code
        with httpx.Client(timeout=timeout, trust_env=False) as fresh:
            return fresh.post(url, content=body, headers=headers).status_code

    return post
