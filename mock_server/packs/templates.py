"""Output templates: a task's ``output`` per status as JSON text with placeholders.

A template is JSON whose placeholder strings (``"{{video_url}}"``, ``"{{width}}"``...) are
replaced at render time by JSON values. Each template is compiled once into text chunks, so
rendering is a join (the omni output costs one concatenation). The same templates give the
output schemas the contract checks use (:func:`output_schema`), so they never drift.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any, Final

from mock_server.packs.errors import PackError

STATUSES: Final = ("pending", "processing", "completed", "failed")
#: Placeholders a template may use, and the JSON type each one renders as.
PLACEHOLDERS: Final[Mapping[str, str]] = {
    "video_url": "url",
    "image_url": "url",
    "audio_url": "url",
    "cover_url": "url",
    "image_urls": "urls",
    "width": "integer",
    "height": "integer",
    "duration": "integer",
    "duration_ms": "integer",
    "task_id": "string",
}
#: Placeholders that all name the task's (first) file.
_FILE_URLS: Final = frozenset({"video_url", "image_url", "audio_url"})
_SLOT: Final = re.compile(r'"\{\{(\w+)\}\}"')
#: Media folders and file extensions of the URLs the fake serves (``/storage/<folder>/``).
MEDIA: Final[Mapping[str, tuple[str, str]]] = {
    "video": ("videos", "mp4"),
    "image": ("images", "png"),
    "audio": ("audio", "mp3"),
}


@dataclass(frozen=True, slots=True)
class Template:
    """One compiled template: literal chunks between placeholder names."""

    chunks: tuple[str, ...]
    names: tuple[str, ...]

    @classmethod
    def compile(cls, template: object) -> Template:
        """Compile a template (any JSON value); unknown placeholders are a :class:`PackError`."""
        text = json.dumps(template, ensure_ascii=False, separators=(",", ":"))
        parts = _SLOT.split(text)
        names = tuple(parts[1::2])
        unknown = sorted(set(names) - set(PLACEHOLDERS))
        if unknown:
            raise PackError(f"unknown placeholder(s) {', '.join(unknown)}")
        return cls(tuple(parts[0::2]), names)


@dataclass(frozen=True, slots=True)
class Media:
    """What a task of one variant produces: kind, count, frame size and length."""

    kind: str
    count: int
    width: int
    height: int
    seconds: int

    @property
    def key(self) -> str:
        """The compact text a task record keeps (shared by every task of the same shape)."""
        return f"{self.kind}/{self.count}/{self.width}x{self.height}/{self.seconds}"

    @classmethod
    def parse(cls, key: str) -> Media:
        """The inverse of :attr:`key`."""
        kind, count, size, seconds = key.split("/")
        width, height = size.split("x")
        return cls(kind, int(count), int(width), int(height), int(seconds))

    def urls(self, base_url: str, task_id: str) -> list[str]:
        """The URLs of the task's files, served by the fake itself."""
        folder, ext = MEDIA[self.kind]
        if self.count == 1:
            return [f"{base_url}/storage/{folder}/{task_id}.{ext}"]
        return [f"{base_url}/storage/{folder}/{task_id}-{i}.{ext}" for i in range(self.count)]


@dataclass(frozen=True, slots=True)
class Rendering:
    """What a task of one variant shows besides its output: usage type and charge, logs, detail."""

    templates: Mapping[str, Template]
    usage_type: str = "point"
    prepaid: bool = False
    #: ``usage.freeze: false`` (motion control): ``frozen`` shows 0 although the end charges.
    shows_frozen: bool = True
    logs_json: str = "null"
    detail_json: str = "null"


class Shape:
    """A variant's templates bound to one :class:`Media`: renders ``output`` per status."""

    def __init__(self, rendering: Rendering, media: Media) -> None:
        templates = rendering.templates
        self._templates = templates
        self.rendering = rendering
        self.media = media
        m = media
        #: The placeholders that are the same for every task of this shape.
        self._numbers = {
            "width": str(m.width),
            "height": str(m.height),
            "duration": str(m.seconds),
            "duration_ms": str(m.seconds * 1000),
        }
        self.usage_prefix = f'{{"type":{encode_basestring(rendering.usage_type)},"frozen":'
        self._static = {
            status: template.chunks[0]
            for status, template in templates.items()
            if not template.names
        }

    def output(self, status: str, base_url: str, task_id: str) -> str:
        """The ``output`` JSON text of a task in ``status`` (cancelled shows ``failed``'s)."""
        static = self._static.get(status)
        if static is not None:
            return static
        template = self._templates.get(status) or self._templates["pending"]
        url = ""
        numbers = self._numbers
        out = [template.chunks[0]]
        for name, chunk in zip(template.names, template.chunks[1:], strict=True):
            if name in _FILE_URLS:
                url = url or encode_basestring(self.first_url(base_url, task_id))
                out.append(url)
            else:
                out.append(numbers.get(name) or self.value(name, base_url, task_id))
            out.append(chunk)
        return "".join(out)

    def first_url(self, base_url: str, task_id: str) -> str:
        """The URL of the task's (first) file."""
        folder, ext = MEDIA[self.media.kind]
        suffix = "" if self.media.count == 1 else "-0"
        return f"{base_url}/storage/{folder}/{task_id}{suffix}.{ext}"

    def usage_json(self, cost: int, consumed: int) -> str:
        """``meta.usage``: frozen until the end (``charge: end``) or consumed at create."""
        if self.rendering.prepaid:
            return f'{self.usage_prefix}0,"consume":{cost}}}'
        frozen = cost if self.rendering.shows_frozen else 0
        return f'{self.usage_prefix}{frozen},"consume":{consumed}}}'

    def value(self, name: str, base_url: str, task_id: str) -> str:
        """One placeholder's JSON text for one task."""
        m = self.media
        if name in {"video_url", "image_url", "audio_url"}:
            return encode_basestring(self.first_url(base_url, task_id))
        if name == "image_urls":
            return "[" + ",".join(map(encode_basestring, m.urls(base_url, task_id))) + "]"
        if name == "cover_url":
            return encode_basestring(f"{base_url}/storage/images/{task_id}-cover.jpg")
        numbers = {
            "width": m.width,
            "height": m.height,
            "duration": m.seconds,
            "duration_ms": m.seconds * 1000,
        }
        if name in numbers:
            return str(numbers[name])
        return encode_basestring(task_id)


def compile_outputs(output: Mapping[str, Any]) -> dict[str, Template]:
    """Templates per status from a pack's ``output`` (missing statuses take ``pending``'s)."""
    if "pending" not in output:
        raise PackError("output needs at least a 'pending' template")
    templates = {s: Template.compile(output[s]) for s in STATUSES if s in output}
    for status in STATUSES:
        templates.setdefault(status, templates["pending"])
    templates["cancelled"] = templates["failed"]
    return templates


_VARIANTS: dict[str, Rendering] = {}


def register(key: str, rendering: Rendering) -> None:
    """Make a variant's rendering findable by the key task records keep."""
    _VARIANTS[key] = rendering


@lru_cache(maxsize=4096)
def shape_of(variant_key: str, media_key: str) -> Shape:
    """The shape of a task record (``record.variant``, ``record.media``), built once."""
    rendering = _VARIANTS.get(variant_key)
    if rendering is None:
        raise PackError(f"no loaded pack has the variant {variant_key!r}")
    return Shape(rendering, Media.parse(media_key))


def output_schema(
    template: object, url_schema: Mapping[str, Any], provenance: Mapping[str, str]
) -> dict[str, Any]:
    """The JSON Schema a rendered template satisfies: keys present, types right, URLs URLs.

    Every subschema carries the template's ``x-provenance``.
    """
    found = _shape_schema(template, url_schema, provenance)
    found["x-provenance"] = dict(provenance)
    return found


def _shape_schema(
    template: object, url_schema: Mapping[str, Any], prov: Mapping[str, str]
) -> dict[str, Any]:
    if isinstance(template, str):
        match = _SLOT.fullmatch(json.dumps(template))
        kind = PLACEHOLDERS[match.group(1)] if match else "string"
        schemas: dict[str, Callable[[], dict[str, Any]]] = {
            "url": lambda: dict(url_schema),
            "urls": lambda: {"type": "array", "minItems": 1, "items": dict(url_schema)},
            "integer": lambda: {"type": "integer", "minimum": 0},
            "string": lambda: {"type": "string"},
        }
        return schemas[kind]()
    if template is None:
        return {"type": "null"}
    if isinstance(template, bool):
        return {"type": "boolean"}
    if isinstance(template, int | float):
        return {"type": "number"}
    if isinstance(template, list):
        if not template:
            return {"type": "array"}
        return {"type": "array", "items": output_schema(template[0], url_schema, prov)}
    if isinstance(template, Mapping):
        return {
            "type": "object",
            "required": sorted(template),
            "properties": {k: output_schema(v, url_schema, prov) for k, v in template.items()},
        }
    raise PackError(f"a template cannot hold {type(template).__name__}")
