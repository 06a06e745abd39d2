"""The plugin's fixtures pass ``control_token`` to the fake they drive (issue #11: 12)."""

from __future__ import annotations

import httpx
import pytest

from contract_tests.inprocess import InProcessMock, PrivateLoop
from contract_tests.server import PiapiServer, ServerThread
from mock_server.settings import Settings

TOKEN = "plugin-tøken"


@pytest.mark.socket
def test_the_server_fixture_sends_the_token() -> None:
    thread = ServerThread(Settings(control_token=TOKEN))
    try:
        server = PiapiServer(thread)
        assert server.control("GET", "/_mock/health")["status"] == "ok"
        server.advance(5)
        assert server.tasks() == []
        server.close()
        refused = httpx.get(thread.base_url + "/_mock/health")  # a client without it
        assert refused.status_code == 401
    finally:
        thread.close()


def test_the_in_process_fixture_sends_the_token() -> None:
    loop = PrivateLoop()
    try:
        with InProcessMock(Settings(control_token=TOKEN), "https://api.piapi.ai", loop) as mock:
            assert mock.control("GET", "/_mock/health")["status"] == "ok"
            assert httpx.get("https://api.piapi.ai/_mock/health").status_code == 401
    finally:
        loop.close()
