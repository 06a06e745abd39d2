"""The webhook probe: a sound handler passes; each unsafe handler fails, named."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from contract_tests.webhook_probe import WebhookHandlerError, WebhookProbe, webhook_body
from mock_server.schema_registry import default_registry

SECRET = "s3cret"
RANK = {"pending": 0, "processing": 1, "completed": 2, "failed": 2}


def make_handler(
    check_secret: Callable[[str | None], bool] = lambda got: got == SECRET,
    keep_order: bool = True,
    duplicates: bool = True,
) -> tuple[Callable[[dict[str, str], bytes], int], dict[str, str]]:
    state: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()

    def handler(headers: dict[str, str], body: bytes) -> int:
        if not check_secret(headers.get("x-webhook-secret")):
            return 401
        task = json.loads(body)["data"]
        key = (task["task_id"], task["status"])
        if key in seen and not duplicates:
            return 409
        seen.add(key)
        old = state.get(task["task_id"], "pending")
        if not keep_order or RANK[task["status"]] >= RANK[old]:
            state[task["task_id"]] = task["status"]
        return 200

    return handler, state


def run(handler: Callable[[dict[str, str], bytes], int], state: dict[str, str]) -> None:
    WebhookProbe().check(secret=SECRET, handler=handler, status_of=state.get)


def test_a_sound_handler_passes() -> None:
    handler, state = make_handler()
    run(handler, state)


def test_the_bodies_are_valid_webhooks() -> None:
    for status in ("processing", "completed"):
        body = webhook_body("t", status, SECRET, "https://example.test/h")
        assert default_registry().errors("webhook", body) == []


UNSAFE = {
    "accepts no header": (make_handler(lambda got: got in (SECRET, None)), "no x-webhook-secret"),
    "accepts any secret": (make_handler(lambda got: got is not None), "wrong secret"),
    "prefix match": (
        make_handler(lambda got: bool(got) and SECRET.startswith(got or "")),
        "prefix",
    ),
    "refuses duplicates": (make_handler(duplicates=False), "duplicate"),
    "goes back in time": (make_handler(keep_order=False), "must not move a task back"),
}


@pytest.mark.parametrize("name", sorted(UNSAFE))
def test_an_unsafe_handler_fails_and_is_named(name: str) -> None:
    (handler, state), problem = UNSAFE[name]
    with pytest.raises(WebhookHandlerError) as caught:
        run(handler, state)
    assert problem in str(caught.value)


def test_a_handler_behind_http(piapi_webhooks: object) -> None:
    """The real loopback receiver accepts everything: the forgeries are caught."""
    from contract_tests.receiver import WebhookReceiver

    assert isinstance(piapi_webhooks, WebhookReceiver)
    with pytest.raises(WebhookHandlerError) as caught:
        WebhookProbe().check(piapi_webhooks.url, secret=SECRET)
    assert "no x-webhook-secret" in str(caught.value)
    assert len(piapi_webhooks.deliveries) == 8
