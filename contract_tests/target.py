"""What every plugin fixture that stands for "the PiAPI under test" offers.

:class:`Target` is also the live-mode object (``--piapi-base-url``): it has a ``base_url`` and
an ``api_key`` and nothing else, so every control method skips the test that calls it. The
in-process fake (``inprocess.py``) and the session server (``server.py``) override them.
"""

from __future__ import annotations

import os
from typing import Any, Final, NoReturn

import pytest

#: The key the fake accepts by default (any non-empty key works unless ``api_keys`` is set).
DEFAULT_API_KEY: Final = "test-key"
#: Live mode reads the key to send from this variable.
API_KEY_ENV: Final = "PIAPI_API_KEY"


class Target:
    """A PiAPI endpoint for a test: where it is, which key to send, and (on the fake) control.

    Control methods: :meth:`advance`, :meth:`run_until_idle`, :meth:`tasks`, :meth:`task`,
    :meth:`calls`, :meth:`webhook_deliveries`, :meth:`add_rule`, :meth:`reset`,
    :meth:`control`. On a live server (this class) each one skips the calling test.
    """

    #: True for a server without the control plane (``--piapi-base-url``).
    live = True

    def __init__(self, base_url: str, api_key: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or os.environ.get(API_KEY_ENV) or DEFAULT_API_KEY

    @property
    def headers(self) -> dict[str, str]:
        """The auth header every PiAPI request needs."""
        return {"x-api-key": self.api_key}

    def url(self, path: str) -> str:
        """``base_url`` joined with ``path``."""
        return self.base_url + "/" + path.lstrip("/")

    def _needs_control(self, what: str) -> NoReturn:
        pytest.skip(f"{what} needs the piapi-mock control plane; {self.base_url} is live")

    def advance(self, seconds: float) -> None:
        """Move the fake's virtual clock forward by ``seconds``; due webhooks are delivered."""
        self._needs_control("advancing the clock")

    def run_until_idle(self) -> None:
        """Advance until every task that can end has ended and every due webhook was tried."""
        self._needs_control("run_until_idle")

    def tasks(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every task as GET shows it now (any owner), oldest first; optionally one status."""
        self._needs_control("listing tasks")

    def task(self, task_id: str) -> dict[str, Any]:
        """One task as GET shows it now (any owner); ``KeyError`` if unknown."""
        self._needs_control("reading a task")

    def calls(self) -> list[dict[str, Any]]:
        """The request journal: ``{at, method, path, status, task_id, message}``, oldest first."""
        self._needs_control("the request journal")

    def webhook_deliveries(self, task_id: str | None = None) -> list[dict[str, Any]]:
        """The fake's webhook attempt log (``event``, ``url``, ``status``, ``result``, ...)."""
        self._needs_control("the webhook log")

    def reset(self, seed: int | None = None) -> None:
        """Forget every task, journal entry and delivery; optionally re-seed."""
        self._needs_control("reset")

    def control(self, method: str, path: str, json: Any = None) -> Any:
        """Call the ``/_mock`` control plane (``path`` like ``/_mock/clock``); the JSON answer.

        An answer of 400 or more raises ``AssertionError`` with the status and body.
        """
        self._needs_control(f"{method} {path}")

    def add_rule(
        self, scenario: str, match: dict[str, Any] | None = None, times: int | None = None
    ) -> dict[str, Any]:
        """Give matching new tasks an outcome (``POST /_mock/rules``), e.g. ``"stuck"``.

        ``match`` fields: ``prompt_contains``, ``resolution``, ``version``, ``api_key``,
        ``enable_audio``, ``duration``; ``times`` limits how often the rule fires.
        """
        body: dict[str, Any] = {"scenario": scenario, "match": match or {}}
        if times is not None:
            body["times"] = times
        rule: dict[str, Any] = self.control("POST", "/_mock/rules", body)
        return rule
