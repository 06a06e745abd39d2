"""The account and listing routes of PiAPI's platform, simulated from the fake's own state.

``/account/info`` with every field real clients read, ``/account/active_tasks`` (counts per
provider) and ``/api/open/tasks/histories`` (paged). Each field's source is in
:data:`SOURCES`; scans of the store are bounded (:data:`MAX_SCAN` newest records), so a
large store never makes these routes slow.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from mock_server.domain.models import Status, TaskRecord
from mock_server.domain.render import rfc3339
from mock_server.provenance import Provenance, guess, observed

if TYPE_CHECKING:
    from mock_server.domain.backend import Backend

#: Records a listing route reads at most, newest first (a guess: PiAPI's own bound is unknown).
MAX_SCAN: Final = 10_000
#: The balance an unlimited account shows, in points ($1,000,000): a large balance, not 0, so
#: clients that gate on the balance do not see an empty account.
UNLIMITED_POINTS: Final = 10_000_000_000_000
VENDOR_CLI: Final = "PiAPI-1/piapi-cli"
SOURCES: Final[dict[str, Provenance]] = {
    "account": observed(VENDOR_CLI, "quota reads data.id, name, plan, credit_pack_info"),
    "wallet": observed("apinetwork/piapi-mcp-server", "reads wallet.point_remain and mj/llm"),
    "credit_pack_info": guess("units of credit_pack_info are not published: the fake uses points"),
    "unlimited": guess("an unlimited account shows $1,000,000 so balance gates pass"),
    "active_tasks": observed(VENDOR_CLI, "task list reads {provider: {*_count, active_tasks}}"),
    "histories": guess("shape from third-party generated connector docs; fields as listed there"),
}


def account_info(backend: Backend, owner: str) -> dict[str, Any]:
    """``/account/info``'s ``data`` for ``owner``."""
    wallet = backend.ledger.wallet(owner)
    limited = bool(backend.ledger.credits)
    remain = wallet["point_remain"] if limited else UNLIMITED_POINTS
    per_usd = backend.prices.points_per_usd
    frozen, used = wallet["point_frozen"], wallet["point_used"]
    return {
        "id": _account_id(owner),
        "name": "piapi-mock",
        "account_name": "piapi-mock",
        "plan": "simulated",
        "type": "payg",
        "is_enable": True,
        "equivalent_in_usd": round(remain / per_usd, 4),
        "unlimited": not limited,
        "wallet": {
            "point_remain": remain,
            "point_frozen": frozen,
            "point_used": used,
            "mj_remain": 0,
            "llm_remain": 0,
        },
        "credit_pack_info": {
            "total_credits": remain + frozen + used,
            "used_credits": used,
            "frozen_credits": frozen,
            "available_credits": remain,
            "expired_credits": 0,
            "inactive_credits": 0,
            "credit_packs_count": 1,
            "credit_packs": [{"name": "piapi-mock", "total_credits": remain + frozen + used}],
        },
        "max_concurrent_task_count": backend.settings.max_concurrent,
    }


def active_tasks(backend: Backend, owner: str) -> dict[str, Any]:
    """``/account/active_tasks``: per provider (the model's family), counts of unfinished tasks."""
    found: dict[str, dict[str, Any]] = {}
    for record in _newest(backend, owner):
        status = backend.view(record).status
        if status.terminal:
            continue
        entry = found.setdefault(
            provider(record.model),
            {"staged_count": 0, "pending_count": 0, "processing_count": 0, "active_tasks": []},
        )
        entry[f"{status.value}_count"] += 1
        entry["active_tasks"].append({"task_id": record.task_id, "status": status.value})
    return found


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """``/api/open/tasks/histories`` parameters (already parsed and bounded)."""

    page: int = 1
    page_size: int = 20
    model: str = ""
    start_time: int | None = None
    end_time: int | None = None


def histories(backend: Backend, owner: str, query: HistoryQuery) -> dict[str, Any]:
    """One page of ``owner``'s tasks, newest first, with the total that matched."""
    matching = (r for r in _newest(backend, owner) if _matches(r, query))
    first = (query.page - 1) * query.page_size
    rows: list[dict[str, Any]] = []
    total = 0
    for total, record in enumerate(matching, start=1):
        if first < total <= first + query.page_size:
            rows.append(_history_row(backend, record))
    return {"data": rows, "page": query.page, "size": query.page_size, "total": total}


def provider(model: str) -> str:
    """The provider a model bills under (``kling-turbo`` is ``kling``)."""
    return model.split("-", 1)[0]


def _history_row(backend: Backend, record: TaskRecord) -> dict[str, Any]:
    view = backend.view(record)
    ended = view.ended_at or view.started_at or record.created_at
    charged = record.cost if record.prepaid or view.status is Status.COMPLETED else 0
    return {
        "id": record.task_id,
        "task_id": record.task_id,
        "account_id": _account_id(record.owner),
        "task_model": record.model,
        "action": record.task_type,
        "usage_type": "llm" if record.prepaid else "point",
        "usage": charged,
        "status": view.status.value,
        "created_at": rfc3339(record.created_at),
        "updated_at": rfc3339(ended),
    }


def _matches(record: TaskRecord, query: HistoryQuery) -> bool:
    if query.model and record.model != query.model:
        return False
    if query.start_time is not None and record.created_at < query.start_time:
        return False
    return query.end_time is None or record.created_at <= query.end_time


def _newest(backend: Backend, owner: str) -> Iterator[TaskRecord]:
    backend.sync()
    backend.catch_up()
    scanned = itertools.islice(reversed(backend.store), MAX_SCAN)  # type: ignore[call-overload]
    return (r for r in scanned if r.owner == owner and not backend.is_expired(r))


def _account_id(owner: str) -> str:
    """A stable account id per API key (never the key itself)."""
    return hashlib.sha256(owner.encode("utf-8", "surrogatepass")).hexdigest()[:24]
