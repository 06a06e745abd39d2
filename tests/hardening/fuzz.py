"""The hostile mini-fuzz: bodies, headers, and the scenario and fault grammars (issue #11).

Shared by the test (a few hundred requests, seeded) and ``bench/suite_hardening.py`` (ten
thousand and more, for the figure): each request is drawn, sent to the fake in-process, and
any 5xx that the request did not ask for (an injected ``X-Mock-Fault`` 500/502/503) counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import strategies as st

PATHS = [
    "/api/v1/task",
    "/api/v1/task/x",
    "/api/v1/task/x/cancel",
    "/account/info",
    "/_mock/clock/advance",
    "/_mock/clock/speed",
    "/_mock/reset",
    "/_mock/faults",
    "/_mock/rules",
    "/_mock/tasks",
    "/_mock/webhooks/redeliver",
    "/storage/videos/x.mp4",
]
METHODS = ["GET", "POST", "DELETE", "PUT"]
DIGITS = st.sampled_from(
    [
        "0",
        "1",
        "5",
        "999999999999",
        "1e3",
        "²",
        "\u0661",
        "\u2460",
        "-1",
        "1.5",
        "inf",
        "nan",
        " 5",
        "5 ",
        "0x10",
        "1_000",
        "9" * 5000,
    ]
)
WORDS = st.sampled_from(
    [
        "complete",
        "complete-after",
        "fail",
        "fail-after",
        "slow",
        "stuck",
        "pending",
        "latency",
        "drop",
        "truncate",
        "429",
        "500",
        "503",
        "content_policy",
        "",
        ":",
        ",",
    ]
)


@st.composite
def grammar(draw: st.DrawFn) -> str:
    """A scenario or fault text: known words, numbers in every script, junk separators."""
    steps = []
    for _ in range(draw(st.integers(0, 10))):
        parts = draw(st.lists(st.one_of(WORDS, DIGITS), min_size=1, max_size=4))
        steps.append(":".join(parts))
    return draw(st.sampled_from([",", ", ", ",,"])).join(steps)


def _json_value() -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
    return st.recursive(
        scalars,
        lambda kids: (
            st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
        ),
        max_leaves=20,
    )


@st.composite
def body(draw: st.DrawFn) -> bytes:
    """Raw bytes, broken JSON, or JSON shaped like the create and control bodies."""
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return draw(st.binary(max_size=200))
    if kind == 1:
        return draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    value: Any = draw(_json_value())
    if kind == 3:
        value = {
            "model": "kling",
            "task_type": "omni_video_generation",
            "input": {
                "version": draw(st.sampled_from(["3.0", "o1"])),
                "prompt": "x",
                "duration": draw(st.one_of(st.integers(), st.floats())),
            },
            "config": {
                "webhook_config": {
                    "endpoint": draw(st.text(max_size=40)),
                    "secret": draw(st.text(max_size=10)),
                }
            },
        }
    if kind == 4:
        value = {
            draw(
                st.sampled_from(
                    ["seconds", "speed", "seed", "fault", "scenario", "times", "every", "task_id"]
                )
            ): value
        }
    try:
        return json.dumps(value, allow_nan=True).encode()
    except (TypeError, ValueError):
        return b"{}"


def header_value() -> st.SearchStrategy[bytes]:
    return st.one_of(grammar().map(lambda s: s.encode("utf-8")), st.binary(max_size=40))


@st.composite
def request(draw: st.DrawFn) -> httpx.Request:
    headers: list[tuple[bytes, bytes]] = []
    for name in draw(
        st.lists(
            st.sampled_from(
                [
                    b"x-api-key",
                    b"x-mock-fault",
                    b"x-mock-scenario",
                    b"content-type",
                    b"content-length",
                ]
            ),
            max_size=5,
        )
    ):
        value = draw(header_value()).replace(b"\r", b"").replace(b"\n", b"")
        if name == b"x-mock-fault" and value in {b"drop"}:
            value = b"429"
        headers.append((name, value))
    query = draw(
        st.sampled_from(
            [
                "",
                "?limit=①",
                "?limit=0",
                "?limit=" + "9" * 5000,
                "?after=²",
                "?status=x&owner=y",
                "?limit=10",
            ]
        )
    )
    path = draw(st.sampled_from(PATHS)) + query
    return httpx.Request(
        draw(st.sampled_from(METHODS)),
        "https://api.piapi.ai" + path,
        headers=headers,
        content=draw(body()),
    )


@dataclass
class Tally:
    """Requests sent and unasked-for 5xx seen (with the first few, to report)."""

    sent: int = 0
    server_errors: int = 0
    examples: list[str] | None = None

    def record(self, sent: httpx.Request, status: int, text: str) -> None:
        self.sent += 1
        fault = sent.headers.get("x-mock-fault", "")
        injected = any(code in fault for code in ("500", "502", "503"))
        if status >= 500 and not injected:
            self.server_errors += 1
            self.examples = [*(self.examples or [])[:4], f"{sent.method} {sent.url}: {text[:200]}"]
