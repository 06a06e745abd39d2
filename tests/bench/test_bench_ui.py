"""The dashboard benchmark's simulated poller asks for what the page asks for."""

from __future__ import annotations

import re
from importlib import resources

from bench.suite_ui import PAGE_REQUESTS


def page_paths(script: str) -> set[str]:
    """The control-plane paths a page script fetches (query strings dropped)."""
    return set(re.findall(r'"(/_mock/[a-z/]+)', script)) | set(
        re.findall(r"`(/_mock/[a-z/]+)\?", script)
    )


def requested(paths: tuple[str, ...]) -> set[str]:
    return {path.split("?")[0] for path in paths}


def test_the_simulated_poller_sends_the_pages_poll_requests() -> None:
    script = (resources.files("mock_server.web.ui") / "static" / "app.js").read_text("utf-8")
    fetched = page_paths(script)
    assert requested(PAGE_REQUESTS) <= fetched
    # Every read refreshAll makes on a poll is in the simulated poller's list.
    refresh = script[
        script.index("async function refreshAll") : script.index("async function tick")
    ]
    assert page_paths(refresh) | {"/_mock/ui/api/poll"} == requested(PAGE_REQUESTS)


def test_the_check_notices_a_poller_that_forgets_a_request() -> None:
    script = (resources.files("mock_server.web.ui") / "static" / "app.js").read_text("utf-8")
    refresh = script[
        script.index("async function refreshAll") : script.index("async function tick")
    ]
    assert page_paths(refresh) | {"/_mock/ui/api/poll"} != requested(PAGE_REQUESTS[:-1])
