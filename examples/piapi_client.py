"""A small PiAPI client for Kling omni video: create a task, wait for it by polling, cancel.

It is what an application would write, and it knows nothing about piapi-mock. Two seams make
it testable without waiting: the ``httpx.Client`` (any base URL) and ``sleep`` (tests pass
``piapi_mock.advance``, so a poll interval moves the fake's virtual clock instead of real time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import httpx

DEFAULT_BASE_URL: Final = "https://api.piapi.ai"
TERMINAL: Final = frozenset({"completed", "failed", "cancelled"})


class PiapiError(Exception):
    """PiAPI refused a call: ``status`` is the HTTP status, ``message`` its text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"PiAPI error {status}: {message}")
        self.status = status
        self.message = message


class TaskFailed(Exception):
    """The task ended without a video."""

    def __init__(self, task: Task) -> None:
        super().__init__(f"task {task.task_id} {task.status}: {task.error_message}")
        self.task = task


@dataclass(frozen=True)
class Task:
    """The parts of PiAPI's task object this client uses."""

    task_id: str
    status: str
    video_url: str
    error_message: str
    raw: dict[str, Any]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Task:
        """From the ``data`` of a create or get answer (or of a webhook body)."""
        error = data.get("error") or {}
        return cls(
            task_id=data["task_id"],
            status=str(data["status"]).lower(),
            video_url=(data.get("output") or {}).get("video", ""),
            error_message=error.get("message") or error.get("raw_message") or "",
            raw=data,
        )


class PiapiClient:
    """PiAPI's unified task API for ``model: kling``, ``task_type: omni_video_generation``."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        poll_interval: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        http: httpx.Client | None = None,
    ) -> None:
        self.poll_interval = poll_interval
        self._sleep = sleep
        self._http = http or httpx.Client(base_url=base_url, timeout=30.0)
        self._http.headers["x-api-key"] = api_key

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()

    def __enter__(self) -> PiapiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._http.request(method, path, **kwargs)
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            raise PiapiError(response.status_code, response.text[:200]) from None
        if response.status_code >= 400 or body.get("code", 200) >= 400:
            raise PiapiError(response.status_code, str(body.get("message", "")))
        return body

    def create_video(
        self,
        prompt: str,
        *,
        duration: int = 5,
        resolution: str = "720p",
        aspect_ratio: str = "16:9",
        enable_audio: bool = False,
        webhook_url: str = "",
        webhook_secret: str = "",
    ) -> Task:
        """Start a Kling 3.0 omni video; the task comes back ``pending``."""
        body = {
            "model": "kling",
            "task_type": "omni_video_generation",
            "input": {
                "prompt": prompt,
                "version": "3.0",
                "duration": duration,
                "resolution": resolution,
                "aspect_ratio": aspect_ratio,
                "enable_audio": enable_audio,
            },
            "config": {"webhook_config": {"endpoint": webhook_url, "secret": webhook_secret}},
        }
        return Task.from_data(self._call("POST", "/api/v1/task", json=body)["data"])

    def get(self, task_id: str) -> Task:
        """The task as it is now."""
        return Task.from_data(self._call("GET", f"/api/v1/task/{task_id}")["data"])

    def cancel(self, task_id: str) -> None:
        """Cancel a task that is still pending (PiAPI refuses once it is processing)."""
        self._call("DELETE", f"/api/v1/task/{task_id}")

    def wait(self, task_id: str, timeout: float = 900.0) -> Task:
        """Poll until the task is terminal; the completed task, or :class:`TaskFailed`.

        Raises ``TimeoutError`` after ``timeout`` seconds of polling (counted in sleeps).
        """
        waited = 0.0
        while True:
            task = self.get(task_id)
            if task.status in TERMINAL:
                if task.status != "completed":
                    raise TaskFailed(task)
                return task
            if waited >= timeout:
                raise TimeoutError(f"task {task_id} still {task.status} after {timeout}s")
            self._sleep(self.poll_interval)
            waited += self.poll_interval
