"""A real local webhook receiver: a small HTTP server on a free loopback port, in a thread.

One :class:`ReceiverServer` runs per test session; each test gets its own
:class:`WebhookReceiver` with a private path, so a late delivery from an earlier test never
lands in a later one. Waiting is on a condition variable, never by sleeping.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    #: The parsed JSON body, or None if the body was not JSON.
    json: Any = field(default=None)

    @property
    def task(self) -> dict[str, Any]:
        """The task object of a PiAPI webhook body (``{"timestamp", "data"}``), or ``{}``."""
        data = self.json.get("data") if isinstance(self.json, dict) else None
        return data if isinstance(data, dict) else {}


class WebhookReceiver:
    """What one test's webhook endpoint received. Put :attr:`url` in ``webhook_config``."""

    def __init__(self, url: str, path: str) -> None:
        self.url = url
        self.path = path
        self._deliveries: list[Delivery] = []
        self._replies: list[int] = []
        self._changed = threading.Condition()

    # -- what the server calls -------------------------------------------------------------

    def _receive(self, delivery: Delivery) -> int:
        with self._changed:
            self._deliveries.append(delivery)
            status = self._replies.pop(0) if self._replies else 200
            self._changed.notify_all()
        return status

    # -- the test's API ----------------------------------------------------------------------

    def reply_with(self, *statuses: int) -> None:
        """Answer the next deliveries with these HTTP statuses (then 200 again)."""
        with self._changed:
            self._replies.extend(statuses)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery so far, oldest first."""
        with self._changed:
            return list(self._deliveries)

    @property
    def bodies(self) -> list[Any]:
        """The parsed JSON bodies, oldest first."""
        return [d.json for d in self.deliveries]

    @property
    def headers(self) -> list[dict[str, str]]:
        """The request headers (lower-case names), oldest first."""
        return [d.headers for d in self.deliveries]

    def for_task(self, task_id: str) -> list[Delivery]:
        """The deliveries about ``task_id``, oldest first."""
        return [d for d in self.deliveries if d.task.get("task_id") == task_id]

    def wait_for(self, task_id: str, status: str, timeout: float = 5.0) -> Delivery:
        """The first delivery saying ``task_id`` is ``status``; waits up to ``timeout`` seconds.

        Raises ``AssertionError`` listing what did arrive if none comes in time.
        """

        def found() -> Delivery | None:
            return next(
                (
                    d
                    for d in self._deliveries
                    if d.task.get("task_id") == task_id and d.task.get("status") == status
                ),
                None,
            )

        with self._changed:
            hit = self._changed.wait_for(found, timeout)
            if hit is None:
                seen = [(d.task.get("task_id"), d.task.get("status")) for d in self._deliveries]
                raise AssertionError(
                    f"no webhook for task {task_id} with status {status!r} within {timeout}s; "
                    f"received (task_id, status): {seen}"
                )
            return hit

    def clear(self) -> None:
        """Forget every delivery and queued reply."""
        with self._changed:
            self._deliveries.clear()
            self._replies.clear()


def _handler(route: Callable[[Delivery], int | None]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            try:
                parsed: Any = json.loads(body)
            except ValueError:
                parsed = None
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = route(Delivery(self.path, headers, body, parsed))
            self.send_response(404 if status is None else status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the default stderr access log."""

    return Handler


class ReceiverServer:
    """The session's webhook server on ``127.0.0.1`` and a free port (per xdist worker)."""

    def __init__(self) -> None:
        self._receivers: dict[str, WebhookReceiver] = {}
        self._ids = count(1)
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self._route))
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="piapi-webhooks", daemon=True
        )
        self._thread.start()

    def _route(self, delivery: Delivery) -> int | None:
        with self._lock:
            receiver = self._receivers.get(delivery.path)
        return None if receiver is None else receiver._receive(delivery)

    def receiver(self) -> WebhookReceiver:
        """A fresh receiver with its own path (``/hooks/<n>``)."""
        path = f"/hooks/{next(self._ids)}"
        receiver = WebhookReceiver(f"http://127.0.0.1:{self.port}{path}", path)
        with self._lock:
            self._receivers[path] = receiver
        return receiver

    def drop(self, receiver: WebhookReceiver) -> None:
        """Stop routing to ``receiver`` (later deliveries to its path get a 404)."""
        with self._lock:
            self._receivers.pop(receiver.path, None)

    def close(self) -> None:
        """Stop the server and its thread."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
