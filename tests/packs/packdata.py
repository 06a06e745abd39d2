"""Reading the shipped task-type packs and the captured client traffic, for the packs' tests.

Plain functions over the JSON files (no engine): the provenance walk, the example check and
the magic bytes of sample media, each usable on a deliberately broken input too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from jsonschema import Draft202012Validator

from mock_server.resources import fixtures_dir, schemas_dir
from mock_server.schema_registry import Violation, _flatten

PACKS: Final = schemas_dir() / "packs"
CAPTURED: Final = Path(__file__).resolve().parent / "captured"
#: The packs this folder's tests own (the omni pack has its own tests).
OWNED: Final = tuple(
    sorted(p.name for p in PACKS.iterdir() if (p / "pack.json").is_file() and "omni" not in p.name)
)
#: Keywords that constrain an instance: a subschema holding one must say where it comes from.
CONSTRAINTS: Final = frozenset(
    {
        "type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "multipleOf", "minLength", "maxLength", "pattern", "format", "minItems", "maxItems",
        "uniqueItems", "required", "not", "additionalProperties", "minProperties",
        "maxProperties", "dependentRequired", "contains", "anyOf", "oneOf",
    }
)  # fmt: skip
_NO_SUBSCHEMAS: Final = frozenset(
    {"x-provenance", "enum", "const", "required", "dependentRequired"}
)
#: The first bytes of each media kind's files (MP4's ``ftyp`` box sits at offset 4).
MAGIC: Final[Mapping[str, tuple[int, bytes]]] = {
    ".png": (0, b"\x89PNG\r\n\x1a\n"),
    ".jpg": (0, b"\xff\xd8\xff"),
    ".mp3": (0, b"ID3"),
    ".wav": (0, b"RIFF"),
    ".mp4": (4, b"ftyp"),
}


def load(path: Path) -> Any:
    """One JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))


def unannotated(node: object, where: str = "#") -> Iterator[str]:
    """Pointers of subschemas holding a constraint keyword but no ``x-provenance``."""
    if node is False:
        yield f"{where}: a false schema (write {{'not': {{}}}} with a provenance)"
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from unannotated(item, f"{where}/{i}")
    if not isinstance(node, dict):
        return
    if CONSTRAINTS & node.keys() and "x-provenance" not in node:
        yield f"{where}: {', '.join(sorted(CONSTRAINTS & node.keys()))} without x-provenance"
    for key, value in node.items():
        if key in _NO_SUBSCHEMAS:
            continue
        if key in {"properties", "$defs", "dependentSchemas", "patternProperties"}:
            for name, sub in value.items():
                yield from unannotated(sub, f"{where}/{key}/{name}")
        else:
            yield from unannotated(value, f"{where}/{key}")


def input_violations(schema: Mapping[str, Any], body: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(pointer, rule) of every violation of a request body's ``input`` (pointers from the body)."""
    validator = Draft202012Validator(schema)
    found: list[Violation] = list(_flatten(validator.iter_errors(body.get("input"))))
    return {("/input" + v.pointer, v.rule) for v in found}


def price_paths(rows: object, prefix: str = "") -> Iterator[tuple[str, object]]:
    """Every leaf of a price table's ``rows`` with its path (``table/key/key``)."""
    if isinstance(rows, dict):
        for key, value in rows.items():
            yield from price_paths(value, f"{prefix}/{key}" if prefix else key)
    else:
        yield prefix, rows


def magic_ok(path: Path) -> bool:
    """Whether the file starts with the magic bytes of its extension's media kind."""
    offset, magic = MAGIC[path.suffix]
    with path.open("rb") as handle:
        head = handle.read(offset + len(magic))
    return head[offset:] == magic


def media_files() -> list[Path]:
    """The sample media the fake serves."""
    return sorted(p for p in (fixtures_dir() / "media").iterdir() if p.suffix in MAGIC)


def captured() -> dict[str, dict[str, Any]]:
    """Every captured client file, by file stem."""
    return {p.stem: load(p) for p in sorted(CAPTURED.glob("*.json"))}


_ABSENT: Final = object()


def at(document: object, pointer: str) -> object:
    """The value at an RFC 6901 pointer, or :data:`_ABSENT`."""
    node = document
    for token in pointer.split("/")[1:] if pointer else []:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _ABSENT
    return node


def missing(document: object, request: Mapping[str, Any], common: list[str]) -> list[str]:
    """The pointers a client reads from a finished task that the document lacks."""
    lost = [p for p in [*common, *request.get("reads", [])] if at(document, p) is _ABSENT]
    for choice in request.get("reads_any", []):
        if all(at(document, p) is _ABSENT for p in choice):
            lost.append(" or ".join(choice))
    for item in request.get("media", []):
        if not isinstance(at(document, item["pointer"]), str):
            lost.append(item["pointer"])
    return lost


def urls_under(node: object) -> list[str]:
    """Every http(s) string inside a JSON value, as PiAPI's CLI walks ``output``."""
    if isinstance(node, str):
        return [node] if node.startswith(("http://", "https://")) else []
    if isinstance(node, list):
        return [u for item in node for u in urls_under(item)]
    if isinstance(node, dict):
        return [u for item in node.values() for u in urls_under(item)]
    return []


#: The extension each media kind's files have, for the magic check of downloads.
KIND_SUFFIX: Final = {"video": ".mp4", "image": ".png", "audio": ".mp3", "cover": ".jpg"}


def magic_of(data: bytes, suffix: str) -> bool:
    """Whether downloaded bytes start with the magic of ``suffix``'s media kind."""
    offset, magic = MAGIC[suffix]
    return data[offset : offset + len(magic)] == magic
