"""The server under test, over HTTP only: every call returns an :class:`Exchange` (evidence).

An :class:`Endpoint` wraps any synchronous ``httpx.Client`` (a real socket, or an in-process
transport such as Starlette's ``TestClient``) and knows whether the target has the fake's
``/_mock`` control plane and its webhook delivery log.

A 429 (any request) or a 5xx (a GET or DELETE, which cannot create anything) is not an answer
to judge: :class:`Retry` sends the request again after ``Retry-After`` (bounded), and only the
last answer is returned, with the number of attempts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

MISSING: Final[Any] = object()
TASK_PATH: Final = "/api/v1/task"
#: Sentinel for "send no x-api-key header".
NO_KEY: Final = ""
#: Where drawn requests send webhooks when no sink runs (loopback; refuses connections).
NOWHERE: Final = "http://127.0.0.1:9/piapi-contract-hook"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its response, kept as evidence for a failure report."""

    method: str
    url: str
    request_body: Any
    status: int
    text: str
    content_type: str = ""
    #: How many times the request was sent (retries after a 429/5xx included).
    attempts: int = 1
    #: The last answer's ``Retry-After`` header ("" if none).
    retry_after: str = ""

    @property
    def throttled(self) -> bool:
        """A 429 even after the retries: the server did not answer the question asked."""
        return self.status == 429

    @property
    def json(self) -> Any:
        """The response body as JSON, or :data:`MISSING` if it is not JSON."""
        try:
            return json.loads(self.text)
        except ValueError:
            return MISSING

    def describe(self, limit: int = 600) -> str:
        """A short human-readable rendering (request line, body, response)."""
        body = "" if self.request_body is MISSING else _brief(self.request_body, limit)
        return (
            f"{self.method} {self.url}{' ' + body if body else ''}\n"
            f"  -> HTTP {self.status}: {_brief(self.text, limit)}"
        )


def _brief(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Retry:
    """How a 429 or 5xx is retried: ``attempts`` in all, waiting ``Retry-After`` seconds.

    A missing or unreadable ``Retry-After`` waits ``default_wait``; every wait is capped at
    ``max_wait`` and all of them together at ``total_wait`` (then the answer is kept as is).
    ``sleep`` is injectable (tests never wait).
    """

    attempts: int = 3
    default_wait: float = 1.0
    max_wait: float = 30.0
    total_wait: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    waited: float = 0.0

    def wait(self, header: str) -> bool:
        """Wait before the next attempt; False if the total bound forbids it."""
        try:
            seconds = float(header) if header else self.default_wait
        except ValueError:
            seconds = self.default_wait
        seconds = min(max(seconds, 0.0), self.max_wait)
        if self.waited + seconds > self.total_wait:
            return False
        self.waited += seconds
        self.sleep(seconds)
        return True


def _retryable(method: str, status: int) -> bool:
    """429 always; a 5xx only where a retry cannot create a second task."""
    return status == 429 or (status >= 500 and method in {"GET", "DELETE", "HEAD"})


@dataclass
class Endpoint:
    """A PiAPI-compatible server: base URL (in ``client``), the caller's key, another key."""

    client: httpx.Client
    api_key: str
    other_key: str = ""
    retry: Retry = field(default_factory=Retry)
    _probed: dict[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.other_key:
            self.other_key = self.api_key + "-contract-other"

    def send(
        self,
        method: str,
        path: str,
        body: Any = MISSING,
        key: str | None = None,
        raw: bytes | None = None,
    ) -> Exchange:
        """Send a request (JSON ``body`` or ``raw`` bytes) with ``key`` (default: ours)."""
        key = self.api_key if key is None else key
        headers = {"x-api-key": key} if key else {}
        content: bytes | None = raw
        if body is not MISSING:
            content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        if content is not None:
            headers["content-type"] = "application/json"
        attempts = 1
        response = self.client.request(method, path, content=content, headers=headers)
        while attempts < self.retry.attempts and _retryable(method, response.status_code):
            if not self.retry.wait(response.headers.get("retry-after", "")):
                break
            attempts += 1
            response = self.client.request(method, path, content=content, headers=headers)
        shown = body if body is not MISSING else (raw.decode("utf-8", "replace") if raw else body)
        return Exchange(
            method,
            str(response.request.url),
            shown,
            response.status_code,
            response.text,
            response.headers.get("content-type", ""),
            attempts,
            response.headers.get("retry-after", ""),
        )

    def create(self, body: Any, key: str | None = None) -> Exchange:
        """``POST /api/v1/task``."""
        return self.send("POST", TASK_PATH, body, key)

    def get(self, task_id: str, key: str | None = None) -> Exchange:
        """``GET /api/v1/task/{task_id}``."""
        return self.send("GET", f"{TASK_PATH}/{task_id}", key=key)

    def cancel(self, task_id: str, key: str | None = None) -> Exchange:
        """``DELETE /api/v1/task/{task_id}``."""
        return self.send("DELETE", f"{TASK_PATH}/{task_id}", key=key)

    def fetch(self, url: str) -> httpx.Response:
        """GET any URL (a video): through our client when it is on the target's host."""
        if httpx.URL(url).host == self.client.base_url.host:
            return self.client.get(url)
        with httpx.Client(timeout=30, follow_redirects=True) as other:
            return other.get(url)

    # -- the fake's control plane (absent on the real PiAPI) ---------------------------------

    def has(self, path: str) -> bool:
        """Whether ``GET path`` answers 200 with JSON (probed once)."""
        if path not in self._probed:
            try:
                response = self.client.get(path)
                self._probed[path] = response.status_code == 200 and _is_json(response)
            except httpx.HTTPError:
                self._probed[path] = False
        return self._probed[path]

    @property
    def has_control(self) -> bool:
        """The target serves the fake's ``/_mock`` control plane."""
        return self.has("/_mock/health")

    @property
    def has_webhook_log(self) -> bool:
        """The target serves the webhook delivery log at ``/_mock/webhooks``."""
        return self.has_control and self.has("/_mock/webhooks")

    def advance(self, seconds: float) -> None:
        """Move the fake's virtual clock forward."""
        response = self.client.post("/_mock/clock/advance", json={"seconds": seconds})
        response.raise_for_status()

    def webhook_log(self) -> Any:
        """The parsed ``GET /_mock/webhooks`` answer."""
        response = self.client.get("/_mock/webhooks")
        response.raise_for_status()
        return response.json()


def _is_json(response: httpx.Response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True
