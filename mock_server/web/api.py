"""The faked PiAPI routes: create, get, cancel (two spellings), account info, video files."""

from __future__ import annotations

import re
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from mock_server.contract_rules import request_violations
from mock_server.domain.backend import Backend
from mock_server.domain.errors import InvalidRequest, PiapiError
from mock_server.domain.prepared import Prepared, prepare
from mock_server.web import headers, media
from mock_server.web.answers import CreatedAnswers, FinishedAnswers
from mock_server.web.body import parse_body, read_bytes
from mock_server.web.responses import JSONBytes, json_data, json_text, page_not_found
from mock_server.webhooks.policy import config_violations


def backend_of(request: Request) -> Backend:
    """The backend the app serves."""
    found: Backend = app_part(request, "backend")
    return found


def app_part(request: Request, name: str) -> Any:
    """``request.app.state.<name>``, read from the app's own attributes when it has them
    (``FakeApp``: no ``State.__getattr__`` on the hot routes)."""
    app = request.scope["app"]
    found = app.__dict__.get(name)
    return found if found is not None else getattr(app.state, name)


#: A path Starlette's ``URL`` leaves as it is (no ``?#\\``, spaces or controls; not ``//``).
_PLAIN_PATH: Final = re.compile(r"/(?!/)[A-Za-z0-9/._~:@!$&'()*+,;=%-]*")
_BASE_URLS: dict[tuple[object, ...], str] = {}


_PLAIN_SEEN: dict[str, bool] = {}


def _plain(path: str) -> bool:
    """Whether ``path`` is plain (``_PLAIN_PATH``), remembered for the last few thousand paths
    (a client polls the same task's path again and again)."""
    found = _PLAIN_SEEN.get(path)
    if found is None:
        found = _PLAIN_PATH.fullmatch(path) is not None
        if len(_PLAIN_SEEN) >= 4096:
            _PLAIN_SEEN.clear()
        _PLAIN_SEEN[path] = found
    return found


def request_path(request: Request) -> str:
    """``request.url.path``, without building the URL when the path is plain (hot path)."""
    path: str = request.scope["path"]
    return path if _plain(path) else request.url.path


def base_url(request: Request) -> str:
    """Scheme and host the client used, for the URLs the fake hands out.

    Memoised by (scheme, Host header, server address) when the path is plain: then nothing
    else goes into ``request.url``'s scheme and netloc.
    """
    scope = request.scope
    if not _plain(scope["path"]):
        return f"{request.url.scheme}://{request.url.netloc}"
    host = None
    for name, value in scope["headers"]:
        if name == b"host":
            host = value
            break
    server = scope.get("server")
    key = (scope.get("scheme", "http"), host, tuple(server) if server else None)
    found = _BASE_URLS.get(key)
    if found is None:
        found = f"{request.url.scheme}://{request.url.netloc}"
        if len(_BASE_URLS) < 256:
            _BASE_URLS[key] = found
    return found


def caller(request: Request, backend: Backend | None = None) -> str:
    """The authenticated key of the request (401 missing or unknown; 400 sent twice)."""
    backend = backend or backend_of(request)
    return backend.authenticate(headers.api_key(request.scope["headers"]))


def journal(
    request: Request,
    status: int,
    task_id: str = "",
    message: str = "",
    backend: Backend | None = None,
) -> None:
    """Record an answered request (``backend``: the request's, when the caller has it)."""
    backend = backend or backend_of(request)
    scope = request.scope
    backend.journal.add(
        backend.clock.now(), scope["method"], request_path(request), status, task_id, message
    )


async def create_task(request: Request) -> Response:
    """POST /api/v1/task: validate, store, answer the whole pending task."""
    backend = backend_of(request)
    owner = caller(request, backend)
    raw = await read_bytes(request, backend.settings.max_body_bytes)
    prepared = backend.prepared.get(raw)
    if prepared is None:
        prepared = _prepare(backend, request, raw)
        backend.prepared.put(raw, prepared)
    scenario = headers.read(request.scope["headers"], headers.SCENARIO).get(headers.SCENARIO)
    base = base_url(request)
    if backend.shared:  # batched with the turn's other creates on Redis
        view = await backend.create_prepared_async(owner, prepared, base, scenario=scenario)
    else:
        view = backend.create_prepared(owner, prepared, base, scenario=scenario)
    try:
        created: CreatedAnswers = app_part(request, "created")
        text = created.answer(prepared, view)
    except Exception:
        backend.forget(view.record)  # a create that answers 500 must leave nothing behind
        raise
    journal(request, 200, view.task_id, backend=backend)
    return json_text(text)


def _prepare(backend: Backend, request: Request, raw: bytes) -> Prepared:
    """A body not seen before: parsed, judged by the contract, made ready (400 if invalid)."""
    body = parse_body(raw, request.headers.get("content-type"))
    packs = backend.packs
    strictness = backend.settings.strictness
    violations = request_violations(body, book=packs, strictness=strictness) or config_violations(
        body
    )
    if violations:
        raise InvalidRequest(violations)
    return prepare(packs.lookup(body["model"], body["task_type"]), body, backend.prices)


async def get_task(request: Request) -> Response:
    """GET /api/v1/task/{task_id}: the task as it is now."""
    backend = backend_of(request)
    owner = caller(request, backend)
    task_id = request.path_params["task_id"]
    answers: FinishedAnswers = app_part(request, "answers")
    if backend.shared:  # one batched round trip on Redis, none for a finished task it keeps
        body = answers.answer(await backend.get_async(owner, task_id))
    else:  # what backend.get does, with the view skipped for an answer already kept
        record = backend.record(owner, task_id)
        backend.catch_up()
        body = answers.kept(record) or answers.answer(backend.view(record))
    journal(request, 200, task_id, backend=backend)
    return JSONBytes(body)


async def cancel_task(request: Request) -> Response:
    """DELETE /api/v1/task/{id} (documented) or POST /api/v1/task/{id}/cancel (piapi-cli)."""
    backend = backend_of(request)
    owner = caller(request)
    task_id = request.path_params["task_id"]
    message = backend.cancel(owner, task_id)
    journal(request, 200, task_id)
    return json_data({"code": 200, "message": message})


async def media_file(request: Request) -> Response:
    """GET /storage/{videos,images,audio}/{file}: a real file of the task's media kind.

    Like PiAPI's storage links it needs no key; it exists only once the task is completed.
    """
    backend = backend_of(request)
    found = media.locate(backend, request.path_params["folder"], request.path_params["file"])
    if found is None:
        return page_not_found()
    path, media_type = found
    return FileResponse(path, media_type=media_type)


def routes() -> list[BaseRoute]:
    """The faked API's routes."""
    return [
        Route("/api/v1/task", create_task, methods=["POST"]),
        Route("/api/v1/task/{task_id}", get_task, methods=["GET"]),
        Route("/api/v1/task/{task_id}", cancel_task, methods=["DELETE"]),
        Route("/api/v1/task/{task_id}/cancel", cancel_task, methods=["POST"]),
        Route("/storage/{folder}/{file}", media_file, methods=["GET", "HEAD"]),
    ]


__all__ = ["PiapiError", "routes"]
