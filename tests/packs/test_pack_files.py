"""The pack files themselves: schemas, provenance on every rule and price, examples, media."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.packs.packdata import (
    OWNED,
    PACKS,
    captured,
    input_violations,
    load,
    magic_ok,
    media_files,
    price_paths,
    unannotated,
)

GRADE_FIELDS = {"documented": "url", "observed": "client", "guess": "reason"}


def provenance_ok(annotation: object) -> bool:
    if not isinstance(annotation, dict) or annotation.get("grade") not in GRADE_FIELDS:
        return False
    source = annotation.get(GRADE_FIELDS[annotation["grade"]])
    if annotation["grade"] == "documented" and not str(source).startswith("https://"):
        return False
    if annotation["grade"] == "observed" and not annotation.get("detail"):
        return False
    return isinstance(source, str) and bool(source.strip())


def pack_entries(pack: dict[str, Any]) -> dict[str, object]:
    """Every part of pack.json that must carry x-provenance, by a readable name."""
    entries: dict[str, object] = {"pack": pack, "usage": pack["usage"], "timing": pack["timing"]}
    entries |= {f"defaults/{k}": v for k, v in pack.get("defaults", {}).items()}
    entries |= {f"links/{link['field']}": link for link in pack.get("links", [])}
    for variant in pack["variants"]:
        entries[f"variants/{variant['name']}"] = variant
        entries[f"variants/{variant['name']}/output"] = variant["output"]
        for pointer, prov in variant["output"].get("x-fields", {}).items():
            entries[f"variants/{variant['name']}/output{pointer}"] = {"x-provenance": prov}
    return entries


def missing_provenance(pack: dict[str, Any]) -> list[str]:
    return [
        name
        for name, entry in pack_entries(pack).items()
        if not (isinstance(entry, dict) and provenance_ok(entry.get("x-provenance")))
    ]


@pytest.mark.parametrize("name", OWNED)
def test_input_schema_is_valid_2020_12_with_the_pack_id(name: str) -> None:
    schema = load(PACKS / name / "input.json")
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"https://piapi-mock.dev/schemas/packs/{name}/input.json"
    assert load(PACKS / name / "pack.json")["name"] == name


@pytest.mark.parametrize("name", OWNED)
def test_every_constraint_says_where_it_comes_from(name: str) -> None:
    schema = load(PACKS / name / "input.json")
    assert list(unannotated(schema)) == []
    annotations = json.dumps(schema).count('"x-provenance"')
    assert annotations > 0


def test_the_provenance_walk_finds_an_unannotated_rule() -> None:
    broken = {
        "type": "object",
        "x-provenance": {"grade": "guess", "reason": "r"},
        "properties": {"duration": {"type": "integer", "allOf": [{"maximum": 15}]}},
        "$defs": {"gone": False},
    }
    found = list(unannotated(broken))
    assert any(f.startswith("#/properties/duration:") for f in found)
    assert any(f.startswith("#/properties/duration/allOf/0:") for f in found)
    assert any("false schema" in f for f in found)


@pytest.mark.parametrize("name", OWNED)
def test_every_pack_entry_has_provenance(name: str) -> None:
    assert missing_provenance(load(PACKS / name / "pack.json")) == []


def test_a_variant_without_provenance_is_found() -> None:
    pack = load(PACKS / "kling-video_generation" / "pack.json")
    del pack["variants"][0]["x-provenance"]
    pack["variants"][1]["output"]["x-provenance"] = {"grade": "documented", "url": "piapi.ai"}
    pack["defaults"]["version"]["x-provenance"] = {"grade": "observed", "client": "x"}
    assert missing_provenance(pack) == [
        "defaults/version",
        "variants/v3",
        "variants/v2.6/output",
    ]


@pytest.mark.parametrize("name", OWNED)
def test_every_price_row_has_a_source(name: str) -> None:
    for path in sorted((PACKS / name / "prices").glob("*.json")):
        table = load(path)
        assert provenance_ok(table["x-provenance"]), path
        leaves = dict(price_paths(table["rows"]))
        assert leaves, path
        assert all(isinstance(v, str) and float(v) > 0 for v in leaves.values()), path
        for prefix, prov in table.get("x-row-provenance", {}).items():
            assert provenance_ok(prov), (path, prefix)
            assert any(p == prefix or p.startswith(prefix + "/") for p in leaves), (path, prefix)


def examples(name: str, kind: str) -> list[Path]:
    return sorted((PACKS / name / "examples" / kind).glob("*.json"))


@pytest.mark.parametrize("name", OWNED)
def test_valid_examples_pass_the_input_schema(name: str) -> None:
    pack = load(PACKS / name / "pack.json")
    schema = load(PACKS / name / "input.json")
    found = examples(name, "valid")
    assert found
    for path in found:
        body = load(path)
        assert (body["model"], body["task_type"]) == (pack["model"], pack["task_type"]), path
        assert input_violations(schema, body) == set(), path


@pytest.mark.parametrize("name", OWNED)
def test_each_invalid_example_breaks_its_manifest_rule(name: str) -> None:
    schema = load(PACKS / name / "input.json")
    manifest = load(PACKS / name / "examples" / "invalid-manifest.json")
    assert {p.name for p in examples(name, "invalid")} == set(manifest)
    for file, want in manifest.items():
        body = load(PACKS / name / "examples" / "invalid" / file)
        assert (want["pointer"], want["rule"]) in input_violations(schema, body), file


def test_the_example_check_catches_a_wrong_manifest_entry() -> None:
    schema = load(PACKS / "veo3.1-veo3.1-video" / "input.json")
    body = {"model": "veo3.1", "task_type": "veo3.1-video", "input": {"prompt": "x", "duration": 8}}
    found = input_violations(schema, body)
    assert ("/input/duration", "type") in found
    assert ("/input/prompt", "minLength") not in found
    assert ("/input/duration", "maximum") not in found


def all_annotations(node: object) -> list[object]:
    """Every ``x-provenance`` value anywhere in a JSON document."""
    if isinstance(node, list):
        return [a for item in node for a in all_annotations(item)]
    if not isinstance(node, dict):
        return []
    found = [node["x-provenance"]] if "x-provenance" in node else []
    return found + [a for k, v in node.items() if k != "x-provenance" for a in all_annotations(v)]


@pytest.mark.parametrize("name", OWNED)
def test_every_annotation_is_well_formed(name: str) -> None:
    for file in ("input.json", "pack.json"):
        bad = [a for a in all_annotations(load(PACKS / name / file)) if not provenance_ok(a)]
        assert bad == [], (name, file)


def test_malformed_annotations_are_refused() -> None:
    assert not provenance_ok({"grade": "guess", "reason": " "})
    assert not provenance_ok({"grade": "documented", "url": "piapi.ai/docs"})
    assert not provenance_ok({"grade": "observed", "client": "x"})
    assert not provenance_ok({"grade": "rumour", "reason": "x"})
    assert provenance_ok({"grade": "observed", "client": "x", "detail": "sends y"})


@pytest.mark.parametrize("path", media_files(), ids=lambda p: p.name)
def test_sample_media_are_real_files_of_their_kind(path: Path) -> None:
    assert magic_ok(path)
    assert path.stat().st_size < 64_000


def test_a_file_of_another_kind_fails_the_magic_check(tmp_path: Path) -> None:
    media = {p.suffix: p for p in media_files()}
    assert {".png", ".jpg", ".mp3", ".wav", ".mp4"} <= media.keys()
    fake_png = tmp_path / "sample.png"
    fake_png.write_bytes(media[".jpg"].read_bytes())
    fake_mp4 = tmp_path / "sample.mp4"
    fake_mp4.write_bytes(b"\x00\x00\x00\x18moov" + bytes(16))
    assert not magic_ok(fake_png)
    assert not magic_ok(fake_mp4)


def known_pairs() -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for folder in PACKS.iterdir():
        if (folder / "pack.json").is_file():
            pack = load(folder / "pack.json")
            found[(pack["model"], pack["task_type"])] = folder.name
    return found


def capture_problems(data: dict[str, Any], pairs: dict[tuple[str, str], str]) -> list[str]:
    """What is wrong with one captured client file: sources, pairs, bodies vs the pack schema."""
    problems = [f"no {k}" for k in ("client", "comment", "reads") if not data.get(k)]
    for request in data["requests"]:
        body, name = request["body"], request["name"]
        pair = (body["model"], body["task_type"])
        if not request.get("source"):
            problems.append(f"{name}: no source")
        if request.get("expect") == "refused":
            if pair in pairs:
                problems.append(f"{name}: expected refused, but a pack serves {pair}")
            continue
        if body["task_type"] == "omni_video_generation":
            continue  # the omni pack's own tests cover it
        if pair not in pairs:
            problems.append(f"{name}: no pack for {pair}")
            continue
        schema = load(PACKS / pairs[pair] / "input.json")
        concrete = json.loads(json.dumps(body).replace("{{origin_task_id}}", "t-1"))
        problems += [f"{name}: {v}" for v in sorted(input_violations(schema, concrete))]
    return problems


def test_captured_requests_name_a_pack_and_a_source() -> None:
    files = captured()
    assert {"piapi-cli", "piapi-mcp-server", "n8n-nodes-piapi", "piapi-skills"} <= files.keys()
    for client, data in files.items():
        assert capture_problems(data, known_pairs()) == [], client


def test_a_broken_capture_is_reported() -> None:
    data = json.loads(json.dumps(captured()["piapi-mcp-server"]))
    data["comment"] = ""
    data["requests"][0]["body"]["input"]["duration"] = "5s"
    data["requests"][1]["body"]["task_type"] = "text2video"
    data["requests"][2]["source"] = ""
    assert capture_problems(data, known_pairs()) == [
        "no comment",
        "generate_video_kling (defaults): ('/input/duration', 'enum')",
        "generate_video_kling (defaults): ('/input/duration', 'type')",
        "generate_video_kling (image, 10s, 9:16): no pack for ('kling', 'text2video')",
        "generate_video_effect_kling (squish): no source",
    ]
