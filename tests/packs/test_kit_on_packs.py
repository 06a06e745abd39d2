"""The contract kit's pack_examples phase on the packs whose usage differs from omni's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from contract_tests.asgi import asgi_client
from contract_tests.endpoint import Endpoint, Retry
from contract_tests.suite import SuiteOptions, SuiteReport, run_suite
from mock_server.domain.backend import manual_backend
from mock_server.settings import Settings
from mock_server.web.app import create_asgi
from tests.contract.references import rewriting

#: Prepaid (consumed at create), frozen 0 at create, and a linked pack.
PAIRS = ("kling-turbo/video_generation", "kling/motion_control", "kling/extend_video")


@pytest.fixture
def serve() -> Iterator[Any]:
    clients: list[httpx.Client] = []

    def make(wrap: Any = None) -> Endpoint:
        backend, _ = manual_backend(Settings())
        app = create_asgi(backend=backend)
        client = asgi_client(wrap(app) if wrap else app)
        clients.append(client)
        return Endpoint(client, "k", retry=Retry(sleep=lambda s: None))

    yield make
    for client in clients:
        client.close()


def suite(endpoint: Endpoint) -> SuiteReport:
    options = SuiteOptions(max_examples=5, seed=3, task_types=PAIRS, only=("pack_examples",))
    return run_suite(endpoint, options)


def test_the_fake_passes_these_packs_examples(serve: Any) -> None:
    report = suite(serve())
    assert report.ok, report.render()
    assert report.checks["frozen_is_price"] >= 6


def freezes_everything(scope: dict[str, Any], request: bytes, document: Any) -> Any:
    """A server that freezes the price at create whatever the pack's usage says."""
    data = document.get("data") if isinstance(document, dict) else None
    usage = data.get("meta", {}).get("usage") if isinstance(data, dict) else None
    if scope["method"] == "POST" and isinstance(usage, dict):
        usage["frozen"] = max(usage["frozen"], usage["consume"]) or 1
        usage["consume"] = 0
    return document


def test_a_server_freezing_a_prepaid_price_fails(serve: Any) -> None:
    report = suite(serve(lambda app: rewriting(app, freezes_everything)))
    assert not report.ok
    assert "frozen_is_price: price" in report.rules, report.render()
