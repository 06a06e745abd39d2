"""pytest plugin (entry point ``pytest11``): fixtures for the fake, its clock and webhooks.

Fixtures:

* ``piapi_mock`` - the fake in-process for httpx clients (sync and async): requests to
  ``piapi_mock_base_url`` (default ``https://api.piapi.ai``) are answered by the ASGI app.
* ``piapi_server`` - the fake on a real loopback port (uvicorn in a thread, one per session,
  reset for every test) for ``requests``, subprocesses and other languages.
* ``piapi_webhooks`` - a real local webhook receiver (``url``, ``wait_for``, ``deliveries``).
* ``piapi_contract`` - the contract kit's client-side router: the fake answers in-process and
  every request the client sends is held to the contract (shape and polling behaviour, see
  ``piapi_poll_policy``); violations fail the test. With ``piapi_mock`` in the same test
  (in any order) it watches the requests ``piapi_mock`` answers.
* ``piapi_webhook_probe`` - sends forged, duplicated and out-of-order webhook deliveries to
  your handler and checks it rejects the forgeries and tolerates the rest.
* ``piapi_mock_settings`` / ``piapi_mock_base_url`` - override them to configure the fake.

The marker ``@pytest.mark.piapi_mock(**settings)`` takes the :class:`Settings` field names
(``speed``, ``host`` and ``port`` have no effect: the fixtures run on a manual clock and a free
loopback port).
``--piapi-base-url URL`` (or ``PIAPI_MOCK_BASE_URL``) runs the same tests against another
server: ``piapi_mock`` and ``piapi_server`` then only give ``base_url`` and ``api_key``, and a
test that needs the control plane is skipped.

This module imports nothing heavy: the app, uvicorn and respx load when a fixture is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

import pytest

from mock_server.settings import Settings, field_names

if TYPE_CHECKING:
    from contract_tests.client import ContractRouter
    from contract_tests.inprocess import PrivateLoop
    from contract_tests.receiver import ReceiverServer, WebhookReceiver
    from contract_tests.server import ServerThread
    from contract_tests.target import Target
    from contract_tests.webhook_probe import WebhookProbe
    from mock_server.polling_rules import PollPolicy

MARKER: Final = "piapi_mock"
BASE_URL_ENV: Final = "PIAPI_MOCK_BASE_URL"
DEFAULT_BASE_URL: Final = "https://api.piapi.ai"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("piapi-mock", "piapi-mock fake of PiAPI")
    group.addoption(
        "--piapi-base-url",
        dest="piapi_base_url",
        default=None,
        metavar="URL",
        help=f"live mode: run piapi_mock/piapi_server tests against URL (env {BASE_URL_ENV}); "
        "tests that need the control plane are skipped",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): configure the piapi-mock fake for this test; keywords are the "
        f"Settings field names ({', '.join(field_names())})",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """A client that broke the contract under ``piapi_contract`` fails the test itself (the
    call phase, listing every violation), not its teardown with a plugin traceback."""
    result = yield
    router: Any = getattr(item, "funcargs", {}).get("piapi_contract")
    violations = getattr(router, "violations", None)
    if violations and getattr(router, "strict", False):
        from contract_tests.client import ClientContractError

        router.strict = False  # reported here: the fixture must not raise it again
        pytest.fail(str(ClientContractError(violations)), pytrace=False)
    return result


def live_base_url(config: pytest.Config) -> str | None:
    """The live-mode URL (option, then environment), or None for the fake."""
    url: str | None = config.getoption("piapi_base_url", None) or os.environ.get(BASE_URL_ENV)
    return url or None


def live_target(request: pytest.FixtureRequest, url: str, base: Settings) -> Target:
    """Live mode: a :class:`RemoteFake` when ``url`` is a piapi-mock (its control plane
    answers), reset for this test; else a bare :class:`Target` (control methods skip).

    A marker asking for settings other than ``seed`` cannot change a running server: the test
    is skipped with that reason rather than run under settings it did not ask for.
    """
    from contract_tests.remote import RemoteFake, probe
    from contract_tests.target import Target

    if not probe(url):
        return Target(url)
    settings = marker_settings(request.node, base)
    if settings.replace(seed=0) != Settings().replace(seed=0):
        pytest.skip(f"settings markers need the in-process fake; {url} has its own settings")
    fake = RemoteFake(url)
    fake.reset(seed=settings.seed)
    return fake


def marker_settings(node: pytest.Item | pytest.Collector, base: Settings) -> Settings:
    """``base`` with every ``piapi_mock`` marker's keywords applied (the closest wins)."""
    changes: dict[str, Any] = {}
    for marker in reversed(list(node.iter_markers(MARKER))):
        if marker.args:
            pytest.fail(
                f"@pytest.mark.{MARKER} takes keywords only, got positional {marker.args!r}",
                pytrace=False,
            )
        changes.update(marker.kwargs)
    unknown = sorted(set(changes) - set(field_names()))
    if unknown:
        pytest.fail(
            f"@pytest.mark.{MARKER}: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(field_names())}",
            pytrace=False,
        )
    return base.replace(**changes)


# -- configuration fixtures (override them in a conftest.py) ---------------------------------


@pytest.fixture
def piapi_mock_settings() -> Settings:
    """The fake's settings before markers apply; override to configure a module or suite."""
    return Settings()


@pytest.fixture
def piapi_mock_base_url() -> str:
    """The URL ``piapi_mock`` intercepts (scheme and host, no path)."""
    return DEFAULT_BASE_URL


# -- private session resources ---------------------------------------------------------------


@pytest.fixture(scope="session")
def _piapi_loop() -> Iterator[PrivateLoop]:
    from contract_tests.inprocess import PrivateLoop

    portal = PrivateLoop()
    yield portal
    portal.close()


@pytest.fixture(scope="session")
def _piapi_server_thread() -> Iterator[ServerThread]:
    from contract_tests.server import ServerThread

    thread = ServerThread(Settings())
    yield thread
    thread.close()


@pytest.fixture(scope="session")
def _piapi_receiver_server() -> Iterator[ReceiverServer]:
    from contract_tests.receiver import ReceiverServer

    server = ReceiverServer()
    yield server
    server.close()


# -- the fixtures ----------------------------------------------------------------------------


@pytest.fixture
def piapi_mock(
    request: pytest.FixtureRequest,
    piapi_mock_settings: Settings,
    piapi_mock_base_url: str,
    _piapi_loop: PrivateLoop,
) -> Iterator[Target]:
    """The fake in-process for httpx clients, fresh for this test (see ``InProcessMock``)."""
    from contract_tests.inprocess import InProcessMock

    live = live_base_url(request.config)
    if live:
        target = live_target(request, live, piapi_mock_settings)
        yield target
        getattr(target, "close", lambda: None)()
        return
    settings = marker_settings(request.node, piapi_mock_settings)
    from contract_tests import netguard

    with (
        InProcessMock(settings, piapi_mock_base_url, _piapi_loop) as mock,
        pytest.MonkeyPatch.context() as patch,
    ):
        netguard.route_requests(patch, mock.base_url, mock.answer_plain)
        netguard.block_sockets(patch)
        yield mock


@pytest.fixture
def piapi_server(request: pytest.FixtureRequest, piapi_mock_settings: Settings) -> Iterator[Target]:
    """The fake on a real loopback port (see ``PiapiServer``), reset for this test.

    With default settings (a ``seed`` aside) it is the session's server; other settings (marker
    or ``piapi_mock_settings``) start a dedicated server for this test, which is slower.
    """
    from contract_tests.server import PiapiServer, ServerThread

    live = live_base_url(request.config)
    if live:
        target = live_target(request, live, piapi_mock_settings)
        yield target
        getattr(target, "close", lambda: None)()
        return
    settings = marker_settings(request.node, piapi_mock_settings)
    if settings.replace(seed=0) == Settings():
        server = PiapiServer(request.getfixturevalue("_piapi_server_thread"))
        server.reset(seed=settings.seed)
        yield server
        server.close()
        return
    thread = ServerThread(settings)
    try:
        server = PiapiServer(thread)
        yield server
        server.close()
    finally:
        thread.close()


@pytest.fixture
def piapi_webhooks(_piapi_receiver_server: ReceiverServer) -> Iterator[WebhookReceiver]:
    """A real local webhook receiver for this test: ``url``, ``wait_for``, ``deliveries``."""
    receiver = _piapi_receiver_server.receiver()
    yield receiver
    _piapi_receiver_server.drop(receiver)


@pytest.fixture
def piapi_poll_policy() -> PollPolicy:
    """How ``piapi_contract`` holds a client's polling (override it to change the limits)."""
    from mock_server.polling_rules import PollPolicy

    return PollPolicy()


@pytest.fixture
def piapi_contract(
    request: pytest.FixtureRequest,
    piapi_mock_settings: Settings,
    piapi_mock_base_url: str,
    piapi_poll_policy: PollPolicy,
) -> Iterator[ContractRouter]:
    """The contract kit's :class:`ContractRouter` around this test (the fake answers).

    Every request to the base URL is checked against the request schemas and rules, and the
    client's polling against ``piapi_poll_policy``; if the client broke the contract, the
    test errors at teardown with every violation (pointer and rule), even when the client
    swallowed the 400. With ``piapi_mock`` in the same test (whatever the fixture order) the
    router only watches: ``piapi_mock`` answers, and time is the fake's. Skipped in live mode.
    """
    from contract_tests.client import ContractRouter

    if live_base_url(request.config):
        pytest.skip("piapi_contract answers in-process; not available in live mode")
    if "piapi_server" in request.fixturenames:
        pytest.fail(
            "piapi_contract checks httpx requests in-process and cannot see what reaches "
            "piapi_server; use @pytest.mark.piapi_mock(strict=True) and "
            "piapi_server.control('GET', '/_mock/violations') instead",
            pytrace=False,
        )
    if "piapi_mock" in request.fixturenames:
        yield from _watching(request.getfixturevalue("piapi_mock"), piapi_poll_policy)
        return
    settings = marker_settings(request.node, piapi_mock_settings)
    with ContractRouter(
        "fake", settings=settings, base_url=piapi_mock_base_url, poll_policy=piapi_poll_policy
    ) as router:
        yield router


def _watching(mock: Any, policy: PollPolicy) -> Iterator[ContractRouter]:
    """A router that watches what ``piapi_mock`` answers; raises at teardown if broken."""
    from contract_tests.client import ContractRouter

    clock = mock.clock

    def virtual_seconds() -> float:
        return float(clock.now()) / 1e9

    router = ContractRouter(
        "fake",
        base_url=mock.base_url,
        poll_policy=policy,
        clock=virtual_seconds,
        on_advance=mock.advance,
    )
    mock.watchers.append(router)
    try:
        yield router
    finally:
        mock.watchers.remove(router)
    if router.strict:  # not yet reported as the test's failure (pytest_runtest_call)
        router.assert_no_violations()


@pytest.fixture
def piapi_webhook_probe() -> WebhookProbe:
    """Sends forged, duplicated and out-of-order webhooks to your handler (see the class)."""
    from contract_tests.webhook_probe import WebhookProbe

    return WebhookProbe()
