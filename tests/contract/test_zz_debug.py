from __future__ import annotations
import httpx
import contract_tests.suite as S
from contract_tests.endpoint import Endpoint
from contract_tests.suite import SuiteOptions, run_suite
from tests.contract.test_cli_contract import fresh_server  # noqa

def test_dbg(fresh_server: str) -> None:
    sinks = []
    orig = S.WebhookSink
    class Spy(orig):  # type: ignore
        def __init__(self): super().__init__(); sinks.append(self)
    S.WebhookSink = Spy
    try:
        with httpx.Client(base_url=fresh_server, timeout=10) as c:
            ep = Endpoint(c, "hooks-key")
            seen = []
            o = ep.create
            def cr(body, key=None):
                seen.append(body.get("config")); return o(body, key)
            ep.create = cr  # type: ignore
            r = run_suite(ep, SuiteOptions(max_examples=25, seed=5, only=("lifecycle",)))
            log = c.get("/_mock/webhooks").json()
            import collections; print("DBG", collections.Counter(str((b or {}).get("webhook_config", {}).get("endpoint")) for b in seen), ep.has_webhook_log, r.checks.get("webhook_matches_get"), r.ok, len(sinks), [len(s.bodies) for s in sinks], log["count"], log["queued"], [ (a["result"], a["error"], a["url"]) for a in log["attempts"]][:5])
    finally:
        S.WebhookSink = orig
    assert False
