"""The shipped packs through the engine: lookup, validation with provenance, strictness, prices."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server.contract_rules import request_violations
from mock_server.packs import PackBook, default_book
from mock_server.packs.errors import PackError
from mock_server.packs.values import as_seconds
from mock_server.settings import Settings
from mock_server.web.app import create_asgi
from tests.packs.packdata import OWNED, PACKS, load

#: Prices PiAPI publishes, in points (1 USD = 10,000,000): (pack, example or input, points).
PUBLISHED: list[tuple[str, str | dict[str, Any], int]] = [
    # piapi.ai/kling-2-6: 2.6 std 5 s $0.20, pro 5 s $0.33; piapi.ai/kling-api: 2.6 up to $0.66
    ("kling-video_generation", "documented-2.6", 2_000_000),
    ("kling-video_generation", {"prompt": "p", "version": "2.6", "mode": "pro"}, 3_300_000),
    (
        "kling-video_generation",
        {"prompt": "p", "version": "2.6", "mode": "pro", "enable_audio": True},
        6_600_000,
    ),
    # piapi.ai/kling-2-5: std $0.20, pro $0.33 per 5 s
    ("kling-video_generation", "v2.5-pro", 3_300_000),
    # piapi.ai/kling-api: 2.1 Master $0.96 per 5 s; 1.6 $0.26-$0.46 per 5 s
    ("kling-video_generation", "v2.1-master", 9_600_000),
    ("kling-video_generation", "n8n-text-to-video", 2_600_000),
    ("kling-video_generation", {"prompt": "p", "version": "1.6", "mode": "pro"}, 4_600_000),
    # piapi.ai/docs/kling-api/kling-3-api: 3.0 per second: std $0.10 (+audio $0.15), pro $0.15/$0.20
    ("kling-video_generation", "documented-3.0", 5_000_000),
    ("kling-video_generation", "documented-3.0-multi-shots", 7_500_000),
    ("kling-video_generation", "v3.0-pro-audio-15", 30_000_000),
    # piapi.ai/docs/kling-api/kling-motion-control-api: 2.6 std $0.065/s; its example bills 9 s
    (
        "kling-motion_control",
        {"image_url": "https://x/i.png", "preset_motion": "m", "duration": 9},
        5_850_000,
    ),
    # piapi.ai/kling-api: turbo $0.28 per 5 s, $0.56 per 10 s (PiAPI's turbo example: 2,800,000)
    ("kling-turbo-video_generation", "cli-turbo-prompt-only", 2_800_000),
    ("kling-turbo-video_generation", "image-to-video-10", 5_600_000),
    # piapi.ai/kling-api: sound $0.07, lip sync $0.10 / 5 s; piapi.ai/virtual-try-on $0.007 x batch
    ("kling-sound", "documented-violin", 700_000),
    ("kling-lip_sync", "n8n-tts", 1_000_000),
    ("kling-ai_try_on", "n8n-upper-lower-4", 280_000),
    # piapi.ai/kling-ai-avatar: std $0.052/s, pro $0.26/s (5 s: the fake's length when none is sent)
    ("kling-avatar", {"image_url": "https://x/f.png", "mode": "pro"}, 13_000_000),
    ("kling-avatar", {"image_url": "https://x/f.png", "duration": 10}, 5_200_000),
    # piapi.ai/docs/seedance-api/seedance-2-preview: the 5 s example consumes 7,500,000
    ("seedance-seedance-2-preview", "documented-guitar", 7_500_000),
    # piapi.ai/seedance-2-0: seedance-2 1080p $0.50/s
    ("seedance-seedance-2", "first-last-1080p", 75_000_000),
    # piapi.ai/docs/veo31-api/text-to-video: $0.24/$0.12 per s, fast $0.09/$0.06
    ("veo3.1-veo3.1-video-fast", "documented-text", 4_800_000),
    ("veo3.1-veo3.1-video", {"prompt": "p", "duration": "8s", "generate_audio": True}, 19_200_000),
    ("veo3.1-veo3.1-video", {"prompt": "p", "duration": "8s", "generate_audio": False}, 9_600_000),
    ("veo3-veo3-video-fast", "documented-image", 7_200_000),
]


def example(name: str, kind: str, file: str) -> dict[str, Any]:
    body: dict[str, Any] = load(PACKS / name / "examples" / kind / f"{file}.json")
    return body


def pairs(found: list[Any]) -> set[tuple[str, str]]:
    return {(v.pointer, v.rule) for v in found}


@pytest.mark.parametrize("name", OWNED)
def test_the_book_finds_each_pack_by_its_pair(name: str) -> None:
    pack = load(PACKS / name / "pack.json")
    assert default_book().lookup(pack["model"], pack["task_type"]).name == name


@pytest.mark.parametrize("name", OWNED)
def test_valid_examples_are_accepted_and_priced(name: str) -> None:
    book = default_book()
    for path in sorted((PACKS / name / "examples" / "valid").glob("*.json")):
        body = load(path)
        assert request_violations(body, book=book) == [], path
        pack = book.named(name)
        assert pack.points(body["input"], "default") > 0, path


@pytest.mark.parametrize("name", OWNED)
def test_invalid_examples_are_refused_at_their_pointer_and_rule(name: str) -> None:
    manifest = load(PACKS / name / "examples" / "invalid-manifest.json")
    for file, want in manifest.items():
        found = request_violations(load(PACKS / name / "examples" / "invalid" / file))
        assert (want["pointer"], want["rule"]) in pairs(found), (file, found)
        assert all(v.provenance is not None for v in found), (file, found)


def test_documented_strictness_drops_guessed_rules_only() -> None:
    guessed = example("kling-video_generation", "invalid", "prompt-2501")
    documented = example("kling-video_generation", "invalid", "mode-turbo")
    assert request_violations(guessed, strictness="documented") == []
    assert request_violations(guessed) != []
    assert pairs(request_violations(documented, strictness="documented")) == {
        ("/input/mode", "enum")
    }


@pytest.mark.parametrize(("name", "given", "points"), PUBLISHED)
def test_published_prices(name: str, given: str | dict[str, Any], points: int) -> None:
    task_input = example(name, "valid", given)["input"] if isinstance(given, str) else given
    assert default_book().named(name).points(task_input, "default") == points


def test_a_wrong_price_row_is_caught(tmp_path: Path) -> None:
    folder = tmp_path / "kling-sound"
    shutil.copytree(PACKS / "kling-sound", folder)
    table = folder / "prices" / "default.json"
    table.write_text(table.read_text().replace('"0.07"', '"0.7"'))
    broken = PackBook.load([folder]).named("kling-sound")
    sound = example("kling-sound", "valid", "documented-violin")["input"]
    assert broken.points(sound, "default") != 700_000


def test_a_request_without_version_or_config_takes_the_default_version() -> None:
    body = example("kling-video_generation", "valid", "mcp-no-version-no-config")
    assert "config" not in body
    assert "version" not in body["input"]
    pack = default_book().named("kling-video_generation")
    assert pack.variant(body["input"]).name == "legacy"
    assert pack.points(body["input"], "default") == 2_600_000


def test_output_per_version_family() -> None:
    pack = default_book().named("kling-video_generation")
    v3 = json.loads(json.dumps(pack.variant({"version": "3.0"}).output["completed"]))
    legacy = pack.variant({"version": "2.1"}).output["completed"]
    assert v3 == {"video": "{{video_url}}"}
    assert set(legacy) == {"video_url", "type", "status", "works"}
    assert set(legacy["works"][0]["video"]) >= {
        "resource",
        "resource_without_watermark",
        "height",
        "width",
        "duration",
    }


IMAGE = "https://x/a.png"
GARBAGE_LENGTHS = [
    {
        "model": "kling",
        "task_type": "effects",
        "input": {"image_url": IMAGE, "effect": "squish", "duration": "abc"},
    },
    {
        "model": "kling",
        "task_type": "motion_control",
        "input": {"image_url": IMAGE, "preset_motion": "m", "duration": [5]},
    },
    {"model": "veo3.1", "task_type": "veo3.1-video", "input": {"prompt": "x", "duration": "eight"}},
]


@pytest.mark.anyio
@pytest.mark.parametrize("strictness", ["all", "documented"])
@pytest.mark.parametrize("body", GARBAGE_LENGTHS, ids=lambda b: b["task_type"])
async def test_an_unparseable_length_is_refused_or_defaulted_never_a_500(
    strictness: str, body: dict[str, Any]
) -> None:
    app = create_asgi(Settings(strictness=strictness))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as client:
        response = await client.post("/api/v1/task", json=body, headers={"x-api-key": "k"})
    assert response.status_code in {200, 400}, response.text
    if strictness == "all":
        assert response.status_code == 400
        assert "/input/duration" in response.json()["message"]


def test_the_length_fallback_is_what_keeps_garbage_from_failing() -> None:
    pack = default_book().named("kling-effects")
    with pytest.raises(PackError):
        as_seconds("abc")
    assert pack.seconds({"duration": "abc"}) == 5
    assert pack.seconds({"duration": 7}) == 7
