"""The client kit: test any httpx-based PiAPI client against the contract, in-process.

:class:`ContractRouter` is a respx router (a context manager, easy to wrap as a fixture) for
``https://api.piapi.ai`` (or ``base_url``). It checks every request the client sends against
the request schemas and rules: a violation is recorded with its JSON pointer and rule, and the
router raises :class:`ClientContractError` when it exits (even if the client swallowed the
error answer). It answers either from the fake in-process (``answer="fake"``, the default) or
from Hypothesis (``answer="drawn"`` with ``data=`` a ``st.data()`` object): long pending,
failures, awkward-but-valid fields, optional transient 429/5xx.

It also holds the client to :mod:`mock_server.polling_rules` (``poll_policy=``): polling a
task it has seen finished, polling faster than ``min_interval``, retrying a 429 before its
``Retry-After``, or never stopping (the router then raises
:class:`~mock_server.polling_rules.RunawayClient` into the client). Time there is the wall
clock plus :meth:`ContractRouter.sleep` and :meth:`ContractRouter.advance` seconds: give the
client ``sleep=router.sleep`` and it is judged without waiting.

Works for sync and async httpx clients: answers are computed synchronously (the fake runs on a
private event loop in a thread).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Literal

import httpx
import respx

from contract_tests.asgi import PortalTransport
from contract_tests.drawn_server import Answer, DrawnServer
from mock_server.contract_rules import request_violations
from mock_server.polling_rules import PollPolicy, PollWatch
from mock_server.schema_registry import Violation

_TASK: Final = re.compile(r"^/api/v1/task/([^/]+)$")
_CANCEL: Final = re.compile(r"^/api/v1/task/([^/]+)/cancel$")
FAKE_VIDEO: Final = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


@dataclass(frozen=True, slots=True)
class ClientViolation:
    """A request the contract forbids: where (pointer), which rule, and the request line."""

    method: str
    path: str
    pointer: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.pointer or '/'}: {self.message} [{self.rule}]"


class ClientContractError(AssertionError):
    """The client sent requests the contract forbids (``violations`` lists them)."""

    def __init__(self, violations: list[ClientViolation]) -> None:
        self.violations = list(violations)
        lines = "\n  ".join(str(v) for v in self.violations)
        super().__init__(f"the client broke the PiAPI contract:\n  {lines}")


def check_request(request: httpx.Request) -> list[ClientViolation]:
    """Every contract violation in one request to PiAPI (route, key, body)."""
    method, path = request.method, request.url.path

    def violation(pointer: str, rule: str, message: str) -> ClientViolation:
        return ClientViolation(method, path, pointer, rule, message)

    if method in {"GET", "HEAD"} and path.startswith("/storage/"):
        return []  # the fake's video files, like PiAPI's storage links: no key needed
    known = (method, path) in {("POST", "/api/v1/task"), ("GET", "/account/info")}
    known = known or (method in {"GET", "DELETE"} and bool(_TASK.match(path)))
    known = known or (method == "POST" and bool(_CANCEL.match(path)))
    if not known:
        return [violation("", "route", "PiAPI has no such route (it answers 404 page not found)")]
    found = []
    if not request.headers.get("x-api-key", "").strip():
        found.append(
            violation("/headers/x-api-key", "required", "the x-api-key header is required")
        )
    if (method, path) == ("POST", "/api/v1/task"):
        found += [violation(v.pointer, v.rule, v.message) for v in _body_violations(request)]
    return found


def _body_violations(request: httpx.Request) -> list[Violation]:
    """The body's violations. Like PiAPI's Go backend (and the fake), any Content-Type goes."""
    try:
        body = json.loads(request.content)
    except ValueError:
        return [Violation("", "json", "the body is not JSON")]
    return request_violations(body)


class ContractRouter:
    """A respx router that holds every PiAPI request to the contract and answers it.

    ``answer="fake"``: the fake answers (pass ``app=`` an ASGI app, or ``settings=`` for a new
    one from ``create_asgi``). ``answer="drawn"``: :class:`DrawnServer` answers from ``data``.
    ``violations`` lists what the client got wrong; on exit the router raises
    :class:`ClientContractError` if that list is not empty (``strict=False`` only records).
    """

    def __init__(
        self,
        answer: Literal["fake", "drawn"] = "fake",
        *,
        data: Any = None,
        app: Any = None,
        settings: Any = None,
        base_url: str = "https://api.piapi.ai",
        transient_errors: bool = False,
        strict: bool = True,
        poll_policy: PollPolicy | None = None,
        clock: Callable[[], float] | None = None,
        on_advance: Callable[[float], None] | None = None,
    ) -> None:
        if answer == "drawn" and data is None:
            raise ValueError('answer="drawn" needs data= (a Hypothesis st.data() object)')
        self.answer = answer
        self.base_url = base_url.rstrip("/")
        self.strict = strict
        self.violations: list[ClientViolation] = []
        self.drawn = DrawnServer(data, transient_errors) if answer == "drawn" else None
        #: Seconds added to the wall clock by :meth:`sleep` and :meth:`advance`.
        self.slept = 0.0
        self.watch = PollWatch(poll_policy or PollPolicy(), self.now)
        self._polls_taken = 0
        self._app, self._settings = app, settings
        self._transport: PortalTransport | None = None
        self._clock = clock
        self._on_advance = on_advance
        self.router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        self.router.route(url__startswith=self.base_url + "/").mock(side_effect=self._handle)
        self.router.route(method="GET").mock(side_effect=self._video)

    @property
    def calls(self) -> respx.models.CallList:
        """Every request the router saw (respx's call list)."""
        return self.router.calls

    def __enter__(self) -> ContractRouter:
        if self.answer == "fake":
            self._transport = PortalTransport(self._app or _new_app(self._settings))
        self.router.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.router.__exit__(kind, error, trace)
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self.strict and self.violations and kind is None:
            raise ClientContractError(self.violations)

    def assert_no_violations(self) -> None:
        """Raise :class:`ClientContractError` now if the client broke the contract."""
        if self.violations:
            raise ClientContractError(self.violations)

    def now(self) -> float:
        """The time the polling rules judge in: wall seconds plus the seconds slept.

        With ``clock=`` (e.g. the ``piapi_mock`` fake's virtual seconds), that clock is added
        too, so a client sleeping through the fake's clock is judged in it.
        """
        extra = self._clock() if self._clock is not None else 0.0
        return time.monotonic() + self.slept + extra

    def sleep(self, seconds: float) -> None:
        """A client's ``sleep`` that waits for nothing but counts for the polling rules."""
        self.slept += max(seconds, 0.0)

    def advance(self, seconds: float) -> None:
        """Move the in-process fake's virtual clock (``answer="fake"`` only)."""
        if self._on_advance is not None:  # watching another fake: its clock is ours
            self._on_advance(seconds)
            return
        assert self._transport is not None, "advance needs answer='fake' inside the with block"
        self.sleep(seconds)
        request = httpx.Request(
            "POST", self.base_url + "/_mock/clock/advance", json={"seconds": seconds}
        )
        response = self._transport.handle_request(request)
        if response.status_code != 200:
            raise RuntimeError(f"advance: HTTP {response.status_code}: {response.text}")

    def _handle(self, request: httpx.Request) -> httpx.Response:
        found = self.before(request)
        if self._transport is not None:
            response = self._transport.handle_request(request)
        else:
            response = _response(*self._drawn(request, found))
        self.after(request, response)
        return response

    def before(self, request: httpx.Request) -> list[ClientViolation]:
        """Judge a request about to be answered (by this router, or by another fake).

        Returns its shape violations; may raise
        :class:`~mock_server.polling_rules.RunawayClient`.
        """
        found = check_request(request)
        self.violations += found
        try:
            self.watch.request(request.method, request.url.path)
        finally:
            self._take_poll_violations()
        return found

    def after(self, request: httpx.Request, response: httpx.Response) -> None:
        """Note the answer a request got (a 429's ``Retry-After``, a task's status)."""
        self.watch.answered(
            request.method,
            request.url.path,
            response.status_code,
            _status(response),
            response.headers.get("retry-after", ""),
        )

    def _take_poll_violations(self) -> None:
        for v in self.watch.found[self._polls_taken :]:
            self.violations.append(ClientViolation(v.method, v.path, "", v.rule, v.message))
        self._polls_taken = len(self.watch.found)

    def _drawn(self, request: httpx.Request, found: list[ClientViolation]) -> Answer:
        assert self.drawn is not None
        if found:
            code = 401 if found[0].pointer == "/headers/x-api-key" else 400
            code = 404 if found[0].rule == "route" else code
            return code, {"code": code, "data": None, "message": "; ".join(map(str, found))}, {}
        path = request.url.path
        if request.method == "POST" and path == "/api/v1/task":
            return self.drawn.create(json.loads(request.content))
        match = _TASK.match(path) or _CANCEL.match(path)
        task_id = match.group(1) if match else ""
        if request.method == "GET" and task_id:
            return self.drawn.get(task_id)
        if task_id:
            return self.drawn.cancel(task_id)
        return 200, {"code": 200, "data": {"unlimited": True}, "message": "success"}, {}

    def _video(self, request: httpx.Request) -> httpx.Response | None:
        if self.drawn is not None and str(request.url) in self.drawn.videos:
            return httpx.Response(200, content=FAKE_VIDEO, headers={"content-type": "video/mp4"})
        return None


def _response(status: int, body: Any, headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def _status(response: httpx.Response) -> str:
    """The task status in a 200 task answer ("" otherwise)."""
    if response.status_code != 200:
        return ""
    try:
        data = response.json().get("data")
    except (ValueError, AttributeError):
        return ""
    return str(data.get("status", "")) if isinstance(data, dict) else ""


def _new_app(settings: Any) -> Any:
    """A fresh fake (the kit's one allowed import of the web layer, done lazily)."""
    from mock_server.web.app import create_asgi

    return create_asgi(settings)


def contract_router(answer: Literal["fake", "drawn"] = "fake", **options: Any) -> ContractRouter:
    """A :class:`ContractRouter` (``with contract_router(...) as router:``)."""
    return ContractRouter(answer, **options)
