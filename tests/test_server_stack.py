"""``serve`` runs uvicorn on uvloop + httptools (dependencies), and says so when it cannot."""

from __future__ import annotations

import asyncio

import pytest

from mock_server import server
from mock_server.settings import Settings
from mock_server.web.app import create_asgi


def test_the_installed_stack_is_the_fast_one() -> None:
    chosen = server.stack()
    assert chosen == ("uvloop", "httptools")
    assert chosen.fast
    assert str(chosen) == "httptools + uvloop"


def test_a_missing_fast_part_falls_back_to_pure_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "_installed", lambda module: module != "uvloop")
    assert server.stack() == ("asyncio", "httptools")
    assert not server.stack().fast
    monkeypatch.setattr(server, "_installed", lambda module: False)
    assert server.stack() == ("asyncio", "h11")
    assert server.uvicorn_options(Settings())["http"].endswith("GuardedH11Protocol")


def test_serve_config_loads_the_httptools_protocol_and_the_uvloop_loop() -> None:
    settings = Settings(port=0)
    config = server.uvicorn_config(create_asgi(settings), settings)
    config.load()
    assert config.http_protocol_class.__name__.endswith("HttpToolsProtocol")
    factory = config.get_loop_factory()
    assert factory is not None
    loop = factory()
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()
    assert (config.host, config.port, config.access_log) == ("127.0.0.1", 0, False)


def test_the_fallback_config_really_is_the_slow_stack() -> None:
    """The check above would catch a runner left on uvicorn's pure-Python parts."""
    settings = Settings(port=0)
    slow = server.uvicorn_options(settings, server.Stack("asyncio", "h11"))
    config = server.uvicorn_config(create_asgi(settings), settings, **slow)
    config.load()
    assert config.http_protocol_class.__name__.endswith("H11Protocol")
    factory = config.get_loop_factory()
    loop = factory() if factory is not None else asyncio.new_event_loop()
    try:
        assert not type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()


@pytest.mark.socket
def test_serve_says_which_stack_it_runs() -> None:
    from tests.test_serve import Served

    served = Served()
    output = served.stop()
    assert "uvicorn httptools + uvloop)" in output
    assert "slow fallback" not in output


def test_prepare_compiles_every_pack_schema_before_the_first_request() -> None:
    from mock_server import gc_policy
    from mock_server.packs.book import PackBook
    from mock_server.settings import Settings as S

    app = create_asgi(S())
    book: PackBook = app.state.backend.packs
    book.__dict__.pop("registry", None)  # a fresh registry: nothing compiled yet
    registry = book.registry
    assert not registry._fast
    try:
        server.prepare(app)
    finally:
        gc_policy.uninstall()
    compiled = set(registry._fast)
    assert set(registry.request_schemas()) <= compiled
    assert {f"packs/{p.name}/task.json" for p in book} <= compiled
    assert "create-task-request.json" in compiled
