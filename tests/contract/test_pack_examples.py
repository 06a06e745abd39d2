"""Every pack's documented examples are contract cases too (``pack_examples``).

The reference pack here is the shipped omni pack copied as a user pack with examples added:
valid bodies, and one invalid body per mutation of the kit (labelled in the manifest), so
the phase runs on every rule grade there is.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from contract_tests.asgi import asgi_client
from contract_tests.endpoint import Endpoint, Retry
from contract_tests.invalid import MUTATIONS, example
from contract_tests.packs import invalid_examples, packs
from contract_tests.suite import SuiteOptions, SuiteReport, run_suite
from mock_server.domain.backend import Backend, manual_backend
from mock_server.resources import schemas_dir
from mock_server.settings import Settings
from mock_server.web.app import create_asgi
from tests.contract.references import lenient, rewriting

OMNI = "kling-omni_video_generation"
VALID = {
    "model": "kling",
    "task_type": "omni_video_generation",
    "input": {"version": "3.0", "prompt": "a lighthouse at dusk", "duration": 5},
}


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The omni pack with examples: a user pack that replaces the shipped one."""
    folder = tmp_path_factory.mktemp("packs") / OMNI
    shutil.copytree(schemas_dir() / "packs" / OMNI, folder)
    (folder / "examples" / "valid").mkdir(parents=True)
    (folder / "examples" / "invalid").mkdir()
    (folder / "examples" / "valid" / "plain.json").write_text(json.dumps(VALID))
    manifest = {}
    for index, mutation in enumerate(MUTATIONS):
        name = f"{index:02d}.json"
        (folder / "examples" / "invalid" / name).write_text(json.dumps(example(mutation)))
        manifest[name] = {"kind": "request", "pointer": mutation.pointer, "rule": mutation.rule}
    (folder / "examples" / "invalid-manifest.json").write_text(json.dumps(manifest))
    return str(folder)


@pytest.fixture
def serve(pack: str) -> Iterator[Any]:
    clients: list[httpx.Client] = []

    def make(wrap: Any = None, **changes: Any) -> tuple[Endpoint, Backend]:
        backend, _ = manual_backend(Settings(packs=(pack,)).replace(**changes))
        app = create_asgi(backend=backend)
        client = asgi_client(wrap(app) if wrap else app)
        clients.append(client)
        return Endpoint(client, "k", retry=Retry(sleep=lambda s: None)), backend

    yield make
    for client in clients:
        client.close()


def suite(endpoint: Endpoint, pack: str, **options: Any) -> SuiteReport:
    chosen = {
        "max_examples": 5,
        "seed": 3,
        "packs": (pack,),
        "task_types": ("kling/omni_video_generation",),
        "only": ("pack_examples",),
    }
    return run_suite(endpoint, SuiteOptions(**{**chosen, **options}))


def test_the_examples_carry_their_rules_grade(pack: str) -> None:
    cases = invalid_examples(packs(("kling/omni_video_generation",), (pack,))[0])
    assert len(cases) == len(MUTATIONS)
    assert any(c.grade.is_guess for c in cases)
    assert any(c.grade.grade == "documented" for c in cases)


def test_the_fake_passes_its_pack_examples(serve: Any, pack: str) -> None:
    endpoint, backend = serve()
    report = suite(endpoint, pack)
    assert report.ok, report.render()
    assert report.checks["invalid_rejected"] == len(MUTATIONS)
    assert report.checks["frozen_is_price"] == 1
    assert len(report.charges) == len(backend.store) == 1


def test_a_server_accepting_a_documented_rule_s_example_fails(serve: Any, pack: str) -> None:
    def accepts_long_durations(scope: dict[str, Any], request: bytes, document: Any) -> Any:
        message = str(document.get("message", "")) if isinstance(document, dict) else ""
        if scope["method"] == "POST" and "/input/duration" in message and "maximum" in message:
            return 200, {"code": 200, "data": None, "message": "success"}
        return document

    endpoint, _ = serve(lambda app: rewriting(app, accepts_long_durations))
    report = suite(endpoint, pack)
    assert "invalid_rejected: maximum" in report.rules, report.render()


def test_a_lenient_server_shows_drift_and_passes(serve: Any, pack: str) -> None:
    endpoint, _ = serve(lenient)
    report = suite(endpoint, pack)
    assert report.ok, report.render()
    assert ("invalid_rejected", "/input/prompt") in {(d.check, d.pointer) for d in report.drift}


def test_without_a_budget_guessed_examples_are_not_sent(serve: Any, pack: str) -> None:
    endpoint, backend = serve(lenient, control=False)
    report = suite(endpoint, pack)
    assert len(backend.store) == 0
    assert report.ok, report.render()
    assert any("needs --allow-spend-usd" in n.reason for n in report.not_run)


def test_task_types_choose_the_packs(serve: Any, pack: str) -> None:
    endpoint, _ = serve()
    report = suite(endpoint, pack, only=(), task_types=("kling/omni_video_generation",))
    assert {p.name for p in report.phases} >= {"pack_examples", "lifecycle"}
    with pytest.raises(ValueError, match="unknown task types: suno/music"):
        suite(endpoint, pack, task_types=("suno/music",))
