"""``serve --workers N``: N uvicorn worker processes over one shared store.

``memory://`` keeps state inside one process, so N workers would each invent their own tasks,
clock and journal: :func:`check` refuses that with a message naming the stores that work.
With a shared store uvicorn starts N processes that import :func:`app`, which rebuilds the
exact :class:`Settings` of the command line from an environment variable set by
:func:`serve_workers` (uvicorn's workers are fresh interpreters, they cannot be handed objects).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Final

from mock_server.settings import Settings
from mock_server.stores import is_shared

#: Where the parent hands the workers their settings (internal; not a setting itself).
SETTINGS_ENV: Final = "PIAPI_MOCK_WORKER_SETTINGS_JSON"


def check(settings: Settings) -> None:
    """``ValueError`` for a worker count the store cannot serve."""
    if settings.workers < 1:
        raise ValueError("--workers must be at least 1")
    if settings.workers > 1 and not is_shared(settings.store):
        raise ValueError(
            f"--workers {settings.workers} needs a shared store: memory:// keeps tasks, the "
            "clock and the journal inside one process, so each worker would answer from its "
            "own state. Use --store redis://HOST:PORT/DB (several hosts) or "
            "--store sqlite:///PATH (one host), or drop --workers."
        )


def settings_json(settings: Settings) -> str:
    """``settings`` as JSON text (tuples as lists)."""
    return json.dumps(
        {f.name: _plain(getattr(settings, f.name)) for f in dataclasses.fields(settings)}
    )


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict) or hasattr(value, "items"):
        return dict(value)
    return value


def settings_from_json(text: str) -> Settings:
    """The settings :func:`settings_json` wrote."""
    data = json.loads(text)
    defaults = Settings()
    changes: dict[str, Any] = {
        name: tuple(value) if isinstance(getattr(defaults, name), tuple) else value
        for name, value in data.items()
        if hasattr(defaults, name)
    }
    return dataclasses.replace(defaults, **changes)


def app() -> Any:
    """uvicorn's factory in each worker process: the app over the parent's settings."""
    from mock_server.domain.backend import Backend
    from mock_server.web.app import create_asgi

    text = os.environ.get(SETTINGS_ENV)
    if text is None:
        raise RuntimeError(f"{SETTINGS_ENV} is not set: start workers with serve --workers")
    settings = settings_from_json(text)
    backend = Backend(settings)
    backend.listening.add((settings.host, settings.port))
    app = create_asgi(settings, backend)
    from mock_server.server import prepare

    prepare(app)  # as serve does in one process: schemas compiled, GC policy
    return app


def serve_workers(settings: Settings, options: dict[str, Any]) -> None:
    """Run ``settings.workers`` uvicorn processes (``options``: uvicorn's keyword arguments)."""
    import uvicorn

    check(settings)
    os.environ[SETTINGS_ENV] = settings_json(settings)
    uvicorn.run("mock_server.workers:app", factory=True, workers=settings.workers, **options)
