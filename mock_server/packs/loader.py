"""Reading one pack folder (``pack.json``, ``input.json``, ``prices/``) into a :class:`Pack`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mock_server.packs.errors import PackError
from mock_server.packs.model import Link, Pack, Timing, Variant
from mock_server.packs.prices import PriceRule, PriceTable
from mock_server.packs.templates import MEDIA, Rendering, compile_outputs, register
from mock_server.provenance import Provenance, of


def load_pack(directory: Path) -> Pack:
    """The pack in ``directory``; a :class:`PackError` names the file and what is wrong."""
    path = directory / "pack.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return _parse(directory, _resolve(raw, raw))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, PackError) and str(exc).startswith(str(directory)):
            raise
        raise PackError(f"{directory}: {type(exc).__name__}: {exc}") from exc


def _parse(directory: Path, raw: Mapping[str, Any]) -> Pack:
    name = str(raw["name"])
    if name != directory.name:
        raise PackError(f"name {name!r} must equal the folder name {directory.name!r}")
    digest = _digest(directory)
    prices = _prices(directory)
    usage = raw["usage"]
    fields = raw.get("task_fields", {})
    seconds = raw.get("seconds", {})
    usage_type = str(usage["type"])
    charge = _one_of(str(usage.get("charge", "end")), ("end", "create"), "usage.charge")
    extras = {
        "usage_type": usage_type,
        "prepaid": charge == "create",
        "shows_frozen": bool(usage.get("freeze", True)),
        "logs_json": json.dumps(fields.get("logs")),
        "detail_json": json.dumps(fields.get("detail")),
    }
    variants = tuple(_variant(f"{name}@{digest}/{v['name']}", v, extras) for v in raw["variants"])
    if not variants:
        raise PackError("a pack needs at least one variant")
    return Pack(
        name=name,
        model=str(raw["model"]),
        task_type=str(raw["task_type"]),
        title=str(raw.get("title", name)),
        directory=directory,
        provenance=_required_provenance(raw, "pack"),
        defaults={k: v["value"] for k, v in raw.get("defaults", {}).items()},
        rules=_rules(raw.get("rules", ())),
        usage_type=usage_type,
        charge=charge,
        logs_json=str(extras["logs_json"]),
        detail_json=str(extras["detail_json"]),
        seconds_field=str(seconds.get("field", "duration")),
        shots_field=str(seconds.get("shots", "")),
        shot_default=int(seconds.get("shot_default", 0)),
        timing=Timing.parse(raw["timing"]),
        links=tuple(_link(item) for item in raw.get("links", ())),
        variants=variants,
        prices=prices,
        default_table="default" if "default" in prices else sorted(prices)[0],
        raw=raw,
    )


def _variant(key: str, raw: Mapping[str, Any], extras: Mapping[str, Any]) -> Variant:
    media = raw.get("media", {"kind": "video", "count": 1})
    kind = _one_of(str(media.get("kind", "video")), tuple(MEDIA), "media.kind")
    count = media.get("count", 1)
    templates = compile_outputs(_without_provenance(raw["output"]))
    register(key, Rendering(templates, **extras))
    return Variant(
        key=key,
        name=str(raw["name"]),
        when={k: frozenset(_text(v) for v in vs) for k, vs in raw.get("when", {}).items()},
        price=PriceRule.parse(raw["price"]),
        media_kind=kind,
        media_count=count if isinstance(count, int) else str(count["field"]),
        media_count_default=1 if isinstance(count, int) else int(count.get("default", 1)),
        templates=templates,
        output=raw["output"],
        timing=Timing.parse(raw["timing"]) if "timing" in raw else None,
        provenance=_required_provenance(raw, f"variant {raw['name']}"),
    )


def _rules(names: list[str]) -> tuple[str, ...]:
    from mock_server.contract_rules import RULES

    unknown = sorted(set(names) - set(RULES))
    if unknown:
        raise PackError(f"unknown rule(s) {', '.join(unknown)}; known: {', '.join(sorted(RULES))}")
    return tuple(names)


def _link(raw: Mapping[str, Any]) -> Link:
    return Link(
        field=str(raw["field"]),
        task_types=frozenset(str(t) for t in raw["task_types"]),
        status=str(raw.get("status", "completed")),
        provenance=_required_provenance(raw, f"link {raw['field']}"),
    )


def _prices(directory: Path) -> dict[str, PriceTable]:
    tables = {p.stem: PriceTable.load(p) for p in sorted((directory / "prices").glob("*.json"))}
    if not tables:
        raise PackError("a pack needs at least one price table in prices/")
    return tables


def _required_provenance(raw: Mapping[str, Any], what: str) -> Provenance:
    found = of(raw)
    if found is None:
        raise PackError(f"{what} needs x-provenance")
    return found


def _resolve(node: Any, root: Mapping[str, Any]) -> Any:
    """Inline ``{"$ref": "#/$defs/name"}`` entries of ``pack.json`` (local references only)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and len(node) == 1:
            if not ref.startswith("#/$defs/"):
                raise PackError(f"only local #/$defs/ references are allowed, not {ref!r}")
            return _resolve(root["$defs"][ref.removeprefix("#/$defs/")], root)
        return {k: _resolve(v, root) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, root) for v in node]
    return node


def _without_provenance(output: Mapping[str, Any]) -> dict[str, Any]:
    """The templates alone: ``x-`` keys (``x-provenance``, ``x-fields``) are annotations."""
    return {k: v for k, v in output.items() if not k.startswith("x-")}


def _one_of(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise PackError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _digest(directory: Path) -> str:
    """A short content hash: task records name their variant by pack content, not by path."""
    sha = hashlib.sha256()
    for name in ("pack.json", "input.json"):
        sha.update((directory / name).read_bytes())
    return sha.hexdigest()[:10]
