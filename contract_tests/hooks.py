"""A loopback webhook receiver for the suite: collects every JSON body POSTed to it.

Used only when the target has the fake's webhook log (``GET /_mock/webhooks``): the suite
points ``config.webhook_config.endpoint`` here and compares what arrives with GET.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookSink:
    """An HTTP server on ``127.0.0.1`` (free port) in a thread; ``bodies`` is what arrived."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []
        #: The headers of each body, lowercased names, in the same order.
        self.headers: list[dict[str, str]] = []
        self._changed = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                with sink._changed:
                    sink.headers.append({k.lower(): v for k, v in self.headers.items()})
                    sink.bodies.append(body)
                    sink._changed.notify_all()
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Where to send webhooks."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/piapi-contract-hook"

    def __enter__(self) -> WebhookSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def wait_for_events(self, expected: set[tuple[str, str]], timeout: float) -> None:
        """Return once a body arrived for every (task id, status) in ``expected``, or later."""

        def arrived() -> bool:
            return expected <= {_event(body) for body in self.bodies}

        with self._changed:
            self._changed.wait_for(arrived, timeout)

    def wait_for(self, count: int, timeout: float) -> list[tuple[dict[str, str], Any]]:
        """(headers, body) pairs, once ``count`` arrived or ``timeout`` seconds passed."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.bodies) >= count, timeout)
            return list(zip(self.headers, self.bodies, strict=True))


def _event(body: Any) -> tuple[str, str]:
    """(task id, status) of a webhook body."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        return "", ""
    return str(data.get("task_id")), str(data.get("status"))
