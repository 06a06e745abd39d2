"""Live mode against a served piapi-mock: the control methods go over its ``/_mock`` plane.

``--piapi-base-url URL`` pointed at ``piapi-mock serve`` (it answers ``GET /_mock/health``)
gives tests a :class:`RemoteFake` instead of a bare live :class:`Target`: ``advance``,
``tasks``, ``add_rule``, ``reset``... work as on the session server; time moves by
``/_mock/clock/advance`` and the served fake sends its webhooks by itself. The control token
comes from ``PIAPI_MOCK_CONTROL_TOKEN`` when the server needs one.
"""

from __future__ import annotations

import os
import time
from typing import Any, Final

import httpx

from contract_tests.server import PiapiServer
from contract_tests.target import Target

TOKEN_ENV: Final = "PIAPI_MOCK_CONTROL_TOKEN"
#: run_until_idle: virtual seconds per step, steps at most, wall seconds to let webhooks out.
STEP_S: Final = 600.0
MAX_STEPS: Final = 50
SETTLE_S: Final = 5.0


def control_headers() -> dict[str, str]:
    """The control token header, if ``PIAPI_MOCK_CONTROL_TOKEN`` is set."""
    token = os.environ.get(TOKEN_ENV, "")
    return {"x-mock-control-token": token} if token else {}


def probe(base_url: str) -> bool:
    """Whether ``base_url`` serves piapi-mock's control plane (with the token, if any)."""
    try:
        answer = httpx.get(
            base_url.rstrip("/") + "/_mock/health", headers=control_headers(), timeout=3
        )
        return answer.status_code == 200 and answer.json().get("status") == "ok"
    except (httpx.HTTPError, ValueError):
        return False


class RemoteFake(PiapiServer):
    """A served piapi-mock reached over HTTP (no thread of ours behind it)."""

    live = False

    def __init__(self, base_url: str, api_key: str | None = None) -> None:
        Target.__init__(self, base_url, api_key=api_key)
        self._http = httpx.Client(base_url=self.base_url, timeout=10, headers=control_headers())

    def advance(self, seconds: float) -> None:
        """POST ``/_mock/clock/advance``; the served fake delivers what fell due itself."""
        self.control("POST", "/_mock/clock/advance", {"seconds": seconds})

    def run_until_idle(self) -> None:
        """Advance until no task is pending or processing, then let webhooks go out."""
        for _ in range(MAX_STEPS):
            if all(t["status"] in {"completed", "failed", "cancelled"} for t in self.tasks()):
                break
            self.advance(STEP_S)
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            if not self._webhooks_queued():
                return
            time.sleep(0.05)

    def _webhooks_queued(self) -> int:
        try:
            found: Any = self.control("GET", "/_mock/webhooks?task_id=-")
        except AssertionError:
            return 0
        return int(found.get("queued", 0))
