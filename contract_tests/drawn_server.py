"""A PiAPI that answers with responses drawn by Hypothesis, coherent per task.

Each created task gets a drawn script: how many polls it stays ``pending`` (sometimes very
many), how many ``processing``, and how it ends (``completed`` with a video, or ``failed``).
Every answer validates against the schemas and the lifecycle only moves forward, so a correct
client must get through any of them; a client that assumes more than the contract breaks.

Transient errors (``transient_errors=True``) are bounded, as the real service's are: at most
``max_transient`` in a row for one task, and every 429 carries ``Retry-After`` (1-3 s), so a
client with bounded retries that honours it gets through.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

from hypothesis import strategies as st

from contract_tests.drawn_tasks import error_envelopes, tasks
from contract_tests.instants import ZERO_TIME

#: (HTTP status, JSON body, extra headers).
Answer = tuple[int, Any, dict[str, str]]
FAILED_ERROR: Final = {"code": 10000, "raw_message": "", "message": "failed", "detail": None}
OK_ERROR: Final = {"code": 0, "raw_message": "", "message": "", "detail": None}


@dataclass
class Script:
    """One drawn task: a template and the statuses its GETs will show, in order."""

    template: dict[str, Any]
    statuses: list[str]
    failure: dict[str, Any]
    polls: int = 0
    cancelled: bool = False
    #: Transient errors answered in a row (reset by a real answer).
    errors_in_a_row: int = 0

    @property
    def status(self) -> str:
        """The status now (the last one sticks)."""
        if self.cancelled:
            return "failed"
        return self.statuses[min(self.polls, len(self.statuses) - 1)]

    def task(self) -> dict[str, Any]:
        """The task object as it is now: fields follow the status, never going back."""
        task: dict[str, Any] = json.loads(json.dumps(self.template))
        status = task["status"] = self.status
        meta, done = task["meta"], status in {"completed", "failed"}
        if status == "pending" or (self.cancelled and not self._started):
            meta["started_at"] = ZERO_TIME
        if not done:
            meta["ended_at"] = ZERO_TIME
        if status != "completed":
            task["output"]["video"] = ""
            meta["usage"]["consume"] = 0
        task["error"] = dict(self.failure) if status == "failed" else dict(OK_ERROR)
        return task

    @property
    def _started(self) -> bool:
        return "processing" in self.statuses[: self.polls + 1]


@dataclass
class DrawnServer:
    """Answers PiAPI calls from ``data`` (a Hypothesis ``st.data()`` object).

    With ``transient_errors`` a GET may first answer a drawn 429/5xx error envelope, as the
    real service sometimes does (at most ``max_transient`` in a row; a 429 says
    ``Retry-After``); a robust client retries.
    """

    data: Any
    transient_errors: bool = False
    long_pending: int = 60
    max_transient: int = 2
    scripts: dict[str, Script] = field(default_factory=dict)
    videos: set[str] = field(default_factory=set)
    answered: int = 0

    def create(self, body: dict[str, Any]) -> Answer:
        """A new task for a (valid) create body: the pending task, echoing input and config."""
        template = self.data.draw(tasks("completed"), label="task template")
        template["input"] = body["input"]
        template["config"] = _config_echo(body.get("config"))
        script = Script(template, self._statuses(), self.data.draw(_failures(), label="failure"))
        while template["task_id"] in self.scripts:
            template["task_id"] += "-1"
        self.scripts[template["task_id"]] = script
        self.videos.add(template["output"]["video"])
        return self._task(script, advance=False)

    def get(self, task_id: str) -> Answer:
        """The task's next state (or a transient error)."""
        script = self.scripts.get(task_id)
        if script is None:
            return _error(404, f"task {task_id} not found")
        flaky = self.transient_errors and script.errors_in_a_row < self.max_transient
        if flaky and self.data.draw(st.integers(0, 4), label="flaky") == 0:
            self.answered += 1
            script.errors_in_a_row += 1
            envelope = self.data.draw(error_envelopes((429, 500, 502, 503)), label="error")
            headers = {}
            if envelope["code"] == 429:
                headers["retry-after"] = str(self.data.draw(st.integers(1, 3), label="wait"))
            return envelope["code"], envelope, headers
        script.errors_in_a_row = 0
        return self._task(script, advance=True)

    def cancel(self, task_id: str) -> Answer:
        """Cancel: only while pending."""
        script = self.scripts.get(task_id)
        if script is None:
            return _error(404, f"task {task_id} not found")
        if script.status != "pending":
            return _error(400, f"task {task_id} is {script.status}: only pending can be canceled")
        script.cancelled = True
        return 200, {"code": 200, "message": f"task {task_id} canceled"}, {}

    def _task(self, script: Script, advance: bool) -> Answer:
        if advance:
            script.polls += 1
        self.answered += 1
        return 200, {"code": 200, "data": script.task(), "message": "success"}, {}

    def _statuses(self) -> list[str]:
        draw = self.data.draw
        pending = draw(st.one_of(st.integers(0, 3), st.integers(4, self.long_pending)), "pending")
        processing = draw(st.integers(0, 4), label="processing polls")
        end = draw(st.sampled_from(["completed", "failed"]), label="outcome")
        return ["pending"] * (pending + 1) + ["processing"] * processing + [end]


def _failures() -> st.SearchStrategy[dict[str, Any]]:
    return tasks("failed").map(lambda task: task["error"])


def _config_echo(config: Any) -> dict[str, Any]:
    config = config if isinstance(config, dict) else {}
    hook = config.get("webhook_config") or {}
    return {
        "service_mode": config.get("service_mode", ""),
        "webhook_config": {"endpoint": hook.get("endpoint", ""), "secret": hook.get("secret", "")},
    }


def _error(code: int, message: str) -> Answer:
    return code, {"code": code, "data": None, "message": message}, {}
