"""The table of packs keyed by ``(model, task_type)``, and the registry built from them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Final

from mock_server.packs.errors import PackError
from mock_server.packs.loader import load_pack
from mock_server.packs.model import Pack
from mock_server.packs.templates import output_schema
from mock_server.resources import schemas_dir
from mock_server.schema_registry import BASE_URI, SchemaRegistry

_URL: Final = {"$ref": "../../common.json#/$defs/http_url"}
#: Statuses whose output a task schema checks, and the template each one shows.
_OUTPUT_OF: Final = {
    "pending": "pending",
    "processing": "processing",
    "completed": "completed",
    "failed": "failed",
    "cancelled": "failed",
}


class UnsupportedTask(LookupError):
    """No pack for this ``(model, task_type)``; the message lists the supported pairs."""


class PackBook:
    """Loaded packs, one per ``(model, task_type)``; later packs replace earlier ones."""

    def __init__(self, packs: Iterable[Pack]) -> None:
        by_pair: dict[tuple[str, str], Pack] = {}
        by_name: dict[str, Pack] = {}
        for pack in packs:
            old = by_pair.get((pack.model, pack.task_type))
            if old is not None:
                by_name.pop(old.name, None)
            by_pair[(pack.model, pack.task_type)] = pack
            by_name[pack.name] = pack
        self._by_pair = {(p.model, p.task_type): p for p in by_name.values()}
        self._by_name = by_name

    @classmethod
    def load(cls, directories: Iterable[Path]) -> PackBook:
        """Packs from folders, each a pack or a folder of packs (in order)."""
        return cls(load_pack(d) for d in _pack_dirs(directories))

    def __iter__(self) -> Iterator[Pack]:
        return iter(sorted(self._by_name.values(), key=lambda p: p.name))

    def __len__(self) -> int:
        return len(self._by_name)

    def get(self, model: object, task_type: object) -> Pack | None:
        """The pack of a pair, or None (O(1))."""
        if isinstance(model, str) and isinstance(task_type, str):
            return self._by_pair.get((model, task_type))
        return None

    def lookup(self, model: object, task_type: object) -> Pack:
        """The pack of a pair, or :class:`UnsupportedTask`."""
        found = self.get(model, task_type)
        if found is None:
            raise UnsupportedTask(
                f"model {model!r} with task_type {task_type!r} is not supported; "
                f"supported (model/task_type): {', '.join(self.supported)}"
            )
        return found

    def named(self, name: str) -> Pack:
        """A pack by its folder name."""
        return self._by_name[name]

    @property
    def supported(self) -> list[str]:
        """Every ``model/task_type`` the book has, sorted."""
        return sorted(p.pair for p in self._by_name.values())

    @cached_property
    def registry(self) -> SchemaRegistry:
        """The shared schemas plus every pack's input, request and task schemas."""
        documents: dict[str, dict[str, Any]] = {}
        requests: dict[tuple[str, str], str] = {}
        tasks: dict[tuple[str, str], str] = {}
        for pack in self:
            base = f"packs/{pack.name}/"
            documents[base + "input.json"] = _input_schema(pack)
            documents[base + "request.json"] = _request_schema(pack, base)
            documents[base + "task.json"] = task_schema(pack, base)
            requests[(pack.model, pack.task_type)] = base + "request.json"
            tasks[(pack.model, pack.task_type)] = base + "task.json"
        return SchemaRegistry(schemas_dir(), documents, requests, tasks)


def _pack_dirs(directories: Iterable[Path]) -> Iterator[Path]:
    for directory in directories:
        if (directory / "pack.json").is_file():
            yield directory
        elif directory.is_dir():
            yield from sorted(p.parent for p in directory.glob("*/pack.json"))
        else:
            raise PackError(f"{directory}: no pack.json here, and not a folder of packs")


def _input_schema(pack: Pack) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((pack.directory / "input.json").read_text("utf-8"))
    expected = f"{BASE_URI}packs/{pack.name}/input.json"
    if document.get("$id") != expected:
        raise PackError(f"{pack.directory}/input.json: $id must be {expected!r}")
    return document


def _request_schema(pack: Pack, base: str) -> dict[str, Any]:
    """A create body of this pack: the shared envelope's ``input`` checked by ``input.json``."""
    return {
        "$id": BASE_URI + base + "request.json",
        "title": f"POST /api/v1/task body: {pack.title}",
        "type": "object",
        "x-provenance": pack.provenance.annotation(),
        "allOf": [{"$ref": "../../create-task-request.json"}],
        "properties": {
            "model": {"const": pack.model, "x-provenance": pack.provenance.annotation()},
            "task_type": {"const": pack.task_type, "x-provenance": pack.provenance.annotation()},
            "input": {"$ref": "input.json"},
        },
    }


def task_schema(pack: Pack, base: str) -> dict[str, Any]:
    """A task of this pack: its output per status (from the templates) and its usage."""
    prov = pack.provenance.annotation()
    rules: list[dict[str, Any]] = []
    for status, template_status in _OUTPUT_OF.items():
        shapes = _unique_schemas(
            output_schema(v.output.get(template_status, v.output["pending"]), _URL, _prov(v))
            for v in pack.variants
        )
        output = shapes[0] if len(shapes) == 1 else {"anyOf": shapes, "x-provenance": prov}
        rules.append(_when_status(status, {"output": output}))
    rules += _usage_rules(pack)
    return {
        "$id": BASE_URI + base + "task.json",
        "title": f"Task object: {pack.title}",
        "x-provenance": prov,
        "allOf": rules,
    }


def _usage_rules(pack: Pack) -> list[dict[str, Any]]:
    prov = pack.raw.get("usage", {}).get("x-provenance") or pack.provenance.annotation()
    usage_type = {"type": {"const": pack.usage_type, "x-provenance": prov}}
    if pack.charge == "create":
        usage = {"properties": {**usage_type, "frozen": {"const": 0, "x-provenance": prov}}}
        return [{"properties": {"meta": {"properties": {"usage": usage}}}}]
    nothing_yet = {"properties": {"consume": {"const": 0, "x-provenance": prov}}}
    return [
        {"properties": {"meta": {"properties": {"usage": {"properties": usage_type}}}}},
        *(
            _when_status(s, {"meta": {"properties": {"usage": nothing_yet}}})
            for s in ("pending", "processing", "failed", "cancelled")
        ),
    ]


def _when_status(status: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "if": {"properties": {"status": {"const": status}}, "required": ["status"]},
        "then": {"properties": properties},
    }


def _prov(variant: Any) -> dict[str, str]:
    found = variant.output.get("x-provenance")
    return dict(found) if found else variant.provenance.annotation()


def _unique_schemas(schemas: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for schema in schemas:
        seen.setdefault(json.dumps(schema, sort_keys=True), schema)
    return list(seen.values())


@cache
def default_book() -> PackBook:
    """The packs shipped with the package (loaded once per process)."""
    return PackBook.load([schemas_dir() / "packs"])


@cache
def book_for(paths: Sequence[str] = ()) -> PackBook:
    """The shipped packs plus user packs from ``paths`` (``--pack``), which win on a clash."""
    if not paths:
        return default_book()
    return PackBook.load([schemas_dir() / "packs", *(Path(p) for p in paths)])
