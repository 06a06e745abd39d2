"""Checks over time: the lifecycle, the video, cancel, owner isolation and webhooks."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any, Final

import httpx

from contract_tests import failures as f
from contract_tests.endpoint import Exchange
from contract_tests.instants import parse
from contract_tests.registry import ENDED, RANK, TERMINAL, check, task_of
from mock_server.schema_registry import KINDS, default_registry


@check
def lifecycle_forward(history: list[tuple[Exchange, dict[str, Any]]]) -> None:
    """Statuses only move forward; timestamps are ordered, set when reached, then fixed."""
    for exchange, task in history:
        _ordered(exchange, task)
    for (_, before), (exchange, after) in itertools.pairwise(history):
        _forward(exchange, before, after)


def _ordered(exchange: Exchange, task: dict[str, Any]) -> None:
    meta = task.get("meta", {})
    created, started, ended = (parse(str(meta.get(k))) for k in _STAMPS)
    status = task.get("status")
    if status in {"processing", "completed"} and started is None:
        _lifecycle("timestamp set when reached", f"{status} without started_at", exchange)
    if status in TERMINAL and ended is None:
        _lifecycle("timestamp set when reached", f"{status} without ended_at", exchange)
    steps = [t for t in (created, started, ended) if t is not None]
    if steps != sorted(steps):
        _lifecycle("timestamps ordered", "created <= started <= ended is broken", exchange)


_STAMPS: Final = ("created_at", "started_at", "ended_at")


def _forward(exchange: Exchange, before: dict[str, Any], after: dict[str, Any]) -> None:
    old, new = before.get("status"), after.get("status")
    if _rank(new) < _rank(old):
        _lifecycle("statuses move forward", f"status went from {old} to {new}", exchange)
    if old in TERMINAL:
        if after != before:
            _lifecycle("terminal is final", f"a {old} task changed", exchange)
        return
    for key in _STAMPS:
        was, now = before.get("meta", {}).get(key), after.get("meta", {}).get(key)
        if parse(str(was)) is not None and now != was:
            _lifecycle("timestamps fixed once set", f"{key} changed {was} -> {now}", exchange)
    for key in ("input", "config", "task_id"):
        if after.get(key) != before.get(key):
            _lifecycle(f"{key} fixed", f"the task's {key} changed", exchange)
    frozen = [t.get("meta", {}).get("usage", {}).get("frozen") for t in (before, after)]
    if frozen[0] != frozen[1]:
        _lifecycle("price fixed", f"usage.frozen changed {frozen[0]} -> {frozen[1]}", exchange)


def _rank(status: Any) -> int:
    return 2 if status in TERMINAL else RANK.get(str(status), 0)


def _lifecycle(rule: str, message: str, exchange: Exchange) -> None:
    raise f.LifecycleFailure("lifecycle_forward", rule, message, exchange, "/data/status")


@check
def video_fetchable(exchange: Exchange, fetch: Callable[[str], httpx.Response]) -> None:
    """A completed task's ``output.video`` can be fetched (HTTP 200, a non-empty body)."""
    task = task_of(exchange)
    if task.get("status") != "completed":
        return
    url = str(task.get("output", {}).get("video", ""))
    try:
        response = fetch(url)
    except (httpx.HTTPError, ValueError) as exc:
        raise f.VideoFailure(
            "video_fetchable", "video fetchable", f"GET {url!r}: {exc}", exchange, "/data/output"
        ) from exc
    if response.status_code != 200 or not response.content:
        message = f"GET {url} -> HTTP {response.status_code}, {len(response.content)} bytes"
        raise f.VideoFailure(
            "video_fetchable", "video fetchable", message, exchange, "/data/output"
        )


@check
def cancel_only_pending(cancel: Exchange, before: str | None, after: Exchange) -> None:
    """Cancel works while pending (then the task ends, unbilled) and only then."""
    status = task_of(after).get("status")
    if cancel.status == 200:
        if before is not None and RANK.get(before, 9) > 0:
            _cancel("only pending is cancellable", f"cancelled a {before} task", cancel)
        usage = task_of(after).get("meta", {}).get("usage", {})
        if status not in ENDED or usage.get("consume") != 0:
            _cancel("cancel ends the task", f"after cancel: {status}, {usage}", after)
    elif 400 <= cancel.status < 500:
        if status in {"pending", "staged"}:
            _cancel("pending is cancellable", "cancel refused, the task is still pending", cancel)
    else:
        _cancel("cancel answers 200 or 4xx", f"cancel got HTTP {cancel.status}", cancel)


def _cancel(rule: str, message: str, exchange: Exchange) -> None:
    raise f.CancelFailure("cancel_only_pending", rule, message, exchange)


@check
def others_cannot_see(exchange: Exchange) -> None:
    """Another key cannot see the task: a 4xx, no task in the answer."""
    if exchange.status < 400 or task_of(exchange):
        raise f.IsolationFailure(
            "others_cannot_see", "owner only", "another key could read the task", exchange
        )


@check
def webhook_matches_get(body: Any, seen: Mapping[str, dict[str, Any]]) -> None:
    """A webhook body validates and its ``data`` equals GET's task in that status."""
    found = default_registry().errors("webhook", body)
    if found:
        first = found[0]
        raise f.WebhookFailure(
            "webhook_matches_get", first.rule, str(first), None, first.pointer, KINDS["webhook"]
        )
    data = body["data"]
    same = seen.get(str(data.get("status")))
    if same is not None and same != data:
        diff = sorted(k for k in set(same) | set(data) if same.get(k) != data.get(k))
        message = f"{data.get('status')} webhook differs from GET in {', '.join(diff)}"
        raise f.WebhookFailure("webhook_matches_get", "webhook = GET", message, None, "/data")


@check
def webhook_secret_header(headers: Mapping[str, str], body: Any) -> None:
    """A webhook carries ``x-webhook-secret`` equal to the task's secret, and only if it has one."""
    hook = body.get("data", {}).get("config", {}).get("webhook_config", {})
    secret = str(hook.get("secret", ""))
    got = headers.get("x-webhook-secret")
    if (secret and got != secret) or (not secret and got is not None):
        message = f"secret {secret!r}, header x-webhook-secret {got!r}"
        raise f.WebhookFailure("webhook_secret_header", "x-webhook-secret", message, None, "/data")
