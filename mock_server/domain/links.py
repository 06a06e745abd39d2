"""Input fields that name an earlier task (``origin_task_id`` of extend and lip sync)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mock_server.domain.errors import InvalidRequest
from mock_server.packs import Link, Pack
from mock_server.schema_registry import Violation

if TYPE_CHECKING:
    from mock_server.domain.backend import Backend


def check_links(backend: Backend, owner: str, pack: Pack, task_input: Mapping[str, Any]) -> None:
    """400 naming the field unless each linked task exists for ``owner``, of a listed type and
    in the required status (absent optional fields are not checked)."""
    for link in pack.links:
        value = task_input.get(link.field)
        if value is None:
            continue
        problem = _problem(backend, owner, link, value)
        if problem:
            violation = Violation(f"/input/{link.field}", "link", problem, link.provenance)
            raise InvalidRequest([violation], "invalid request")


def _problem(backend: Backend, owner: str, link: Link, value: object) -> str:
    if not isinstance(value, str):
        return f"must be a task id, not {type(value).__name__}"
    record = backend.store.get(value)
    if record is None or record.owner != owner:
        return f"names no task of this API key: {value!r}"
    pair = f"{record.model}/{record.task_type}"
    if pair not in link.task_types:
        allowed = ", ".join(sorted(link.task_types))
        return f"names a {pair} task; it must name one of: {allowed}"
    status = backend.view(record).status.value
    if status != link.status:
        return f"names task {value} which is {status}; it must be {link.status}"
    return ""
