"""The pack engine: Kling 4 omni limits, a user pack with a link and prepaid usage, dispatch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server.cli import main
from mock_server.domain.backend import manual_backend
from mock_server.domain.clock import ManualClock
from mock_server.packs import PackBook, book_for, default_book
from mock_server.packs.errors import PackError
from mock_server.settings import Settings
from mock_server.web.app import create_asgi
from tests.conftest import BASE_URL, KEY, ROOT

pytestmark = pytest.mark.anyio
OMNI = ROOT / "schemas" / "packs" / "kling-omni_video_generation"


def omni(**fields: Any) -> dict[str, Any]:
    return {"model": "kling", "task_type": "omni_video_generation", "input": fields}


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"version": "4.0", "prompt": "a", "duration": 30, "resolution": "1080p"}, None),
        ({"version": "4.0", "prompt": "a", "duration": 31}, ("/input/duration", "maximum")),
        ({"version": "4.0", "prompt": "a", "duration": 2}, ("/input/duration", "minimum")),
        ({"version": "4.0", "prompt": "a"}, ("/input/duration", "required")),
        ({"version": "4.0", "prompt": "  ", "duration": 5}, ("/input/prompt", "pattern")),
        (
            {"version": "4.0", "prompt": "a", "duration": 5, "image_url": "https://x.test/a.png"},
            ("/input/image_url", "not allowed"),
        ),
        (
            {"version": "4.0", "prompt": "a", "duration": 5, "videos": ["https://x.test/v"] * 6},
            ("/input/videos", "maxItems"),
        ),
        (
            {"version": "4.0", "prompt": "a", "duration": 5, "images": ["https://x.test/i"] * 10},
            None,
        ),
        ({"version": "4.0-flash", "prompt": "a", "duration": 20}, None),
        ({"version": "4.0-flash", "prompt": "a", "duration": 21}, ("/input/duration", "maximum")),
        (
            {"version": "4.0-flash", "prompt": "a", "duration": 5, "resolution": "1080p"},
            ("/input/resolution", "const"),
        ),
        (
            {"version": "4.0-flash", "prompt": "a", "duration": 5, "audio_urls": ["https://a"]},
            ("/input/audio_urls", "not allowed"),
        ),
    ],
)
def test_kling_4_omni_limits_as_published(
    fields: dict[str, Any], where: tuple[str, str] | None
) -> None:
    registry = default_book().registry
    found = {(v.pointer, v.rule): v for v in registry.errors("request", omni(**fields))}
    if where is None:
        assert found == {}
    else:
        assert where in found, found
        source = found[where].provenance
        assert source is not None
        assert source.grade == "documented"
        assert source.source == "https://piapi.ai/blogs/kling-4-omni-reference-guide"


async def test_kling_4_tasks_are_billed_per_second_by_resolution(
    client: httpx.AsyncClient,
) -> None:
    body = omni(version="4.0", prompt="a", duration=12, resolution="1080p")
    answer = (await client.post("/api/v1/task", json=body, headers=KEY)).json()
    assert answer["data"]["meta"]["usage"] == {"type": "point", "frozen": 30_000_000, "consume": 0}
    assert answer["data"]["output"] == {"video": ""}


async def test_an_unknown_pair_names_both_fields_and_lists_the_supported(
    client: httpx.AsyncClient,
) -> None:
    body = {"model": "kling", "task_type": "text_to_opera", "input": {}}
    answer = (await client.post("/api/v1/task", json=body, headers=KEY)).json()
    assert answer["code"] == 400
    assert 'model "kling" with task_type "text_to_opera" is not supported' in answer["message"]
    for pair in default_book().supported:
        assert pair in answer["message"]


def write_user_pack(root: Path) -> Path:
    """A small pack of our own: a prepaid sketch task that links to a completed omni task."""
    pack = root / "acme-sketch"
    (pack / "prices").mkdir(parents=True)
    guess = {"grade": "guess", "reason": "a test pack"}
    (pack / "input.json").write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": "https://piapi-mock.dev/schemas/packs/acme-sketch/input.json",
                "type": "object",
                "required": ["origin_task_id"],
                "x-provenance": guess,
                "properties": {"origin_task_id": {"type": "string", "x-provenance": guess}},
            }
        )
    )
    (pack / "prices" / "default.json").write_text(
        json.dumps(
            {
                "name": "default",
                "points_per_usd": 10_000_000,
                "x-provenance": guess,
                "rows": {"flat": "0.05"},
            }
        )
    )
    (pack / "pack.json").write_text(
        json.dumps(
            {
                "name": "acme-sketch",
                "model": "acme",
                "task_type": "sketch",
                "x-provenance": guess,
                "usage": {"type": "llm", "charge": "create", "x-provenance": guess},
                "task_fields": {"logs": [], "detail": None},
                "timing": {"base_seconds": 10, "x-provenance": guess},
                "links": [
                    {
                        "field": "origin_task_id",
                        "task_types": ["kling/omni_video_generation"],
                        "status": "completed",
                        "x-provenance": guess,
                    }
                ],
                "variants": [
                    {
                        "name": "only",
                        "x-provenance": guess,
                        "price": {"per": "task", "table": "flat"},
                        "media": {"kind": "video", "count": 1},
                        "output": {
                            "pending": None,
                            "completed": {
                                "clip": "{{video_url}}",
                                "size": ["{{width}}", "{{height}}"],
                            },
                        },
                    }
                ],
            }
        )
    )
    return pack


@pytest.fixture
def user_pack(tmp_path: Path) -> Path:
    return write_user_pack(tmp_path)


async def test_a_user_pack_loaded_with_pack(user_pack: Path) -> None:
    backend, clock = manual_backend(Settings(packs=(str(user_pack),)))
    transport = httpx.ASGITransport(app=create_asgi(backend=backend))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        sketch: dict[str, Any] = {
            "model": "acme",
            "task_type": "sketch",
            "input": {"origin_task_id": "nope"},
        }
        refused = (await client.post("/api/v1/task", json=sketch, headers=KEY)).json()
        assert refused["code"] == 400
        assert "/input/origin_task_id" in refused["message"]
        assert "names no task of this API key" in refused["message"]

        created = await client.post(
            "/api/v1/task", json=omni(version="3.0", prompt="a"), headers=KEY
        )
        origin = created.json()["data"]["task_id"]
        sketch["input"]["origin_task_id"] = origin
        early = (await client.post("/api/v1/task", json=sketch, headers=KEY)).json()
        assert "it must be completed" in early["message"]

        await finish(client, clock)
        made = (await client.post("/api/v1/task", json=sketch, headers=KEY)).json()["data"]
        assert made["output"] is None
        assert made["logs"] == []
        assert made["meta"]["usage"] == {"type": "llm", "frozen": 0, "consume": 500_000}
        await finish(client, clock)
        done = (await client.get(f"/api/v1/task/{made['task_id']}", headers=KEY)).json()["data"]
        assert done["output"]["size"] == [1280, 720]
        video = await client.get(done["output"]["clip"].removeprefix(BASE_URL))
        assert video.status_code == 200
        assert video.content[4:8] == b"ftyp"
        assert backend.packs.registry.errors("task", done) == []
        broken = {**done, "output": {"clip": 3}}
        assert [v.pointer for v in backend.packs.registry.errors("task", broken)] == [
            "/output/clip",
            "/output/size",
        ]


async def finish(client: httpx.AsyncClient, clock: ManualClock) -> None:
    clock.advance(10_000)


def test_a_user_pack_replaces_the_shipped_pack_of_its_pair(tmp_path: Path) -> None:
    mine = tmp_path / "kling-omni_video_generation"
    shutil.copytree(OMNI, mine)
    schema = json.loads((mine / "input.json").read_text())
    schema["properties"]["version"]["enum"] = ["3.0"]
    (mine / "input.json").write_text(json.dumps(schema))
    book = book_for((str(mine),))
    body = omni(version="o1", prompt="a", duration=5)
    assert [v.rule for v in book.registry.errors("request", body)] == ["enum"]
    assert default_book().registry.errors("request", body) == []


def test_a_pack_without_provenance_is_refused(user_pack: Path) -> None:
    data = json.loads((user_pack / "pack.json").read_text())
    del data["variants"][0]["x-provenance"]
    (user_pack / "pack.json").write_text(json.dumps(data))
    with pytest.raises(PackError, match="variant only needs x-provenance"):
        PackBook.load([user_pack])


def test_validate_with_a_user_pack_prints_each_rule_s_source(
    user_pack: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "sketch.json"
    body.write_text(json.dumps({"model": "acme", "task_type": "sketch", "input": {}}))
    assert main(["validate", "request", str(body)]) == 1
    assert "is not supported" in capsys.readouterr().out
    assert main(["validate", "request", "--pack", str(user_pack), str(body)]) == 1
    out = capsys.readouterr().out
    assert (
        "/input/origin_task_id: 'origin_task_id' is required [required] (guess: a test pack)" in out
    )
    long_prompt = tmp_path / "long.json"
    long_prompt.write_text(json.dumps(omni(version="3.0", prompt="x" * 2501)))
    assert main(["validate", "request", str(long_prompt)]) == 1
    assert "(guess: upstream Kling's limit" in capsys.readouterr().out
    assert main(["validate", "request", "--strictness", "documented", str(long_prompt)]) == 0


EXAMPLES_OF_PACKS = sorted((ROOT / "schemas" / "packs").glob("*/examples/valid/*.json"))


@pytest.mark.parametrize("path", EXAMPLES_OF_PACKS, ids=lambda p: f"{p.parts[-4]}/{p.name}")
def test_a_memoised_decision_equals_the_plain_one(path: Path) -> None:
    """``Pack.decide`` (the create hot path) gives what the unmemoised verbs give."""
    body = json.loads(path.read_text())
    pack = default_book().lookup(body["model"], body["task_type"])
    task_input = body["input"]
    for _ in range(2):  # the second call is answered from the memo
        decision = pack.decide(task_input)
        variant = pack.variant(task_input)
        assert decision.variant == variant
        assert decision.media_key == pack.media(variant, task_input).key
        model = pack.timing_for(variant)
        nominal = model.nominal(pack.values(task_input), pack.seconds(task_input))
        assert decision.nominal_seconds == nominal


def test_the_memo_tells_inputs_apart_by_every_field_it_reads() -> None:
    pack = default_book().named("kling-omni_video_generation")
    short = pack.decide({"version": "3.0", "duration": 3})
    assert pack.decide({"version": "3.0", "duration": 4}) is not short
    assert pack.decide({"version": "3.0", "duration": 3, "resolution": "1080p"}) is not short
    assert pack.decide({"version": "o1", "duration": 5}).variant.name == "omni-o1"
    assert pack.decide({"version": "3.0", "duration": 3, "prompt": "other"}) is short
