"""How ``piapi-mock serve`` runs the app: uvicorn on its fastest stack, GC tuned for a big store.

The fastest well-kept stack measured here is uvicorn with ``uvloop`` (event loop) and
``httptools`` (HTTP parser), about 3x the requests per second of uvicorn's pure-Python
fallback (``h11`` on ``asyncio``) for the same bare endpoint; both packages are dependencies
of piapi-mock (``docs/speed.md`` has the figures, and why not granian). Where one of them
cannot be installed (``uvloop`` has no Windows build) the runner falls back, and says so.

:func:`uvicorn_config` is the one place that turns :class:`Settings` into uvicorn's
configuration: the bench, ``serve`` and any embedding runner share it, so what is measured
is what ships. Server bounds (timeouts, graceful shutdown, limits) belong here too.
"""

from __future__ import annotations

import importlib.util
from typing import Any, Final, NamedTuple

from mock_server.settings import Settings

#: uvicorn's names for the fast parts and their pure-Python fallbacks.
FAST_LOOP: Final = "uvloop"
FAST_HTTP: Final = "httptools"


class Stack(NamedTuple):
    """The event loop and HTTP parser uvicorn is told to use."""

    loop: str
    http: str

    @property
    def fast(self) -> bool:
        """Whether both fast parts are in use."""
        return self == (FAST_LOOP, FAST_HTTP)

    def __str__(self) -> str:
        return f"{self.http} + {self.loop}"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def stack() -> Stack:
    """uvloop + httptools when installed (they are dependencies), else asyncio / h11."""
    loop = FAST_LOOP if _installed(FAST_LOOP) else "asyncio"
    http = FAST_HTTP if _installed(FAST_HTTP) else "h11"
    return Stack(loop, http)


def uvicorn_options(settings: Settings, chosen: Stack | None = None) -> dict[str, Any]:
    """Keyword arguments of ``uvicorn.Config`` for ``settings`` (no app, no socket)."""
    from mock_server.limits import server_options

    chosen = chosen or stack()
    return {
        "host": settings.host,
        "port": settings.port,
        "loop": chosen.loop,
        "http": chosen.http,
        "log_level": "warning",
        "access_log": False,
        # time bounds (hard, issue #11): keep-alive, graceful shutdown, header watchdog
        **server_options(settings, chosen.http),
    }


def uvicorn_config(app: Any, settings: Settings, **overrides: Any) -> Any:
    """A ``uvicorn.Config`` serving ``app`` as ``serve`` does; ``overrides`` win."""
    import uvicorn

    return uvicorn.Config(app, **{**uvicorn_options(settings), **overrides})


def prepare(app: Any) -> None:
    """Make a built app ready to serve: every schema compiled now (the first request would
    otherwise pay about half a second for it, a p99 every client of a fresh fake sees), then
    the GC policy (after the app is built and warm: start-up objects are frozen)."""
    from mock_server import gc_policy

    backend = getattr(getattr(app, "state", None), "backend", None)
    if backend is not None:  # an app of ours (serve also runs any ASGI app it is given)
        backend.packs.registry.warm()
    gc_policy.install()


def proxy_headers_inside(app: Any, config: Any) -> bool:
    """Let ``app`` (the fake's front layer) do uvicorn's proxy-header work with the same
    trusted addresses, and switch uvicorn's own layer off: the same behaviour, one frame and
    one header scan fewer per hot request (``web/front.py``). Whether it was handed over."""
    take = getattr(app, "take_proxy_headers", None)
    if take is None or not config.proxy_headers:
        return False
    take(config.forwarded_allow_ips)
    config.proxy_headers = False
    return True


def serve(app: Any, settings: Settings) -> None:
    """Serve ``app`` until interrupted (uvicorn handles SIGINT/SIGTERM), prepared first."""
    import uvicorn

    config = uvicorn_config(app, settings)
    proxy_headers_inside(app, config)
    prepare(app)
    uvicorn.Server(config).run()
