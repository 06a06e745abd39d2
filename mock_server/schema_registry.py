"""One registry for the contract's JSON Schemas.

Loads every file in ``schemas/`` once, checks each against the Draft 2020-12 metaschema,
resolves ``$ref`` by ``$id`` through :mod:`referencing` and hands out compiled validators.
Every error comes back as a :class:`Violation` (JSON pointer, rule, message), the single
error form shared by the server, the CLI and the contract kit. Importable without Starlette.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any, Final

import fastjsonschema
import jsonschema
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from mock_server.provenance import KEYWORD, Provenance
from mock_server.provenance import of as provenance_of

BASE_URI: Final = "https://piapi-mock.dev/schemas/"

#: Payload kinds the CLI and the kit speak of, and the schema file each one names.
KINDS: Final[Mapping[str, str]] = {
    "request": "create-task-request.json",
    "response": "task-response.json",
    "task": "task.json",
    "webhook": "webhook.json",
    "error": "error-envelope.json",
    "cancel": "cancel-response.json",
    "input": "packs/kling-omni_video_generation/input.json",
    "config": "task-config.json",
}
#: Kinds whose payload is a task (or holds one at ``/data``), checked by the task's pack too.
_TASK_AT: Final[Mapping[str, str | None]] = {"task": "", "response": "data", "webhook": "data"}
Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: where (RFC 6901 pointer), which keyword, and a readable message."""

    pointer: str
    rule: str
    message: str
    #: Where the rule comes from (None for the fake's own limits, such as an unknown task type).
    provenance: Provenance | None = None

    def __str__(self) -> str:
        text = f"{self.pointer or '/'}: {self.message} [{self.rule}]"
        return f"{text} ({self.provenance})" if self.provenance else text

    @property
    def is_guess(self) -> bool:
        """Whether the broken rule is our guess rather than PiAPI's documented or observed rule."""
        return self.provenance is not None and self.provenance.is_guess


def _is_strict_integer(_checker: object, instance: object) -> bool:
    """Integers only, not ``5.0``: Go's decoder refuses a float literal for an ``int`` field."""
    return isinstance(instance, int) and not isinstance(instance, bool)


_TYPE_CHECKER = Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer)
StrictValidator: Any = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, type_checker=_TYPE_CHECKER
)


def pointer(path: Iterable[str | int]) -> str:
    """Render a path as an RFC 6901 JSON pointer."""
    parts = (str(p).replace("~", "~0").replace("/", "~1") for p in path)
    return "".join("/" + p for p in parts)


class SchemaRegistry:
    """Loaded, checked and compiled schemas, addressed by file name or by kind.

    ``documents`` adds schemas by file name (the packs' ``input.json`` and the request and task
    schemas built from ``pack.json``); ``requests`` and ``tasks`` say which of them checks a
    request or a task of each ``(model, task_type)``, so ``errors("request", body)`` judges a
    body by its own pack and names an unsupported pair.
    """

    def __init__(
        self,
        directory: Path,
        documents: Mapping[str, dict[str, Any]] | None = None,
        requests: Mapping[Pair, str] | None = None,
        tasks: Mapping[Pair, str] | None = None,
    ) -> None:
        self._schemas = _load_directory(directory)
        for name, document in (documents or {}).items():
            Draft202012Validator.check_schema(document)
            self._schemas[BASE_URI + name] = document
        self._requests = dict(requests or {})
        self._tasks = dict(tasks or {})
        # Without "$schema", jsonschema keeps our strict validator class across $refs
        # (with it, each referenced file would switch back to the stock Draft 2020-12 class).
        self._bare = {uri: _without_dialect(s) for uri, s in self._schemas.items()}
        resources = [(uri, DRAFT202012.create_resource(s)) for uri, s in self._bare.items()]
        self._registry: Registry[Any] = Registry().with_resources(resources)
        self._validators: dict[str, Any] = {}
        self._fast: dict[str, Any] = {}

    @property
    def names(self) -> list[str]:
        """File names of every loaded schema."""
        return sorted(uri.removeprefix(BASE_URI) for uri in self._schemas)

    def schema(self, name: str) -> dict[str, Any]:
        """The raw schema document of ``name`` (file name or kind)."""
        return self._schemas[BASE_URI + KINDS.get(name, name)]

    def validator(self, name: str) -> Any:
        """A compiled validator for ``name`` (file name or kind), built once."""
        file_name = KINDS.get(name, name)
        found = self._validators.get(file_name)
        if found is None:
            found = StrictValidator(
                self._bare[BASE_URI + file_name],
                registry=self._registry,
                format_checker=FormatChecker(),
            )
            self._validators[file_name] = found
        return found

    def errors(self, name: str, instance: object) -> list[Violation]:
        """Every violation of ``instance`` against ``name``, sorted by pointer.

        A compiled fast path (fastjsonschema, about 20x quicker) accepts the common valid
        case; anything it does not accept goes to :mod:`jsonschema`, which is the authority
        and produces the messages. Tests check both agree.
        """
        return self._errors(name, instance, fast=True)

    def slow_errors(self, name: str, instance: object) -> list[Violation]:
        """Every violation by :mod:`jsonschema` alone (the reference implementation)."""
        return self._errors(name, instance, fast=False)

    def _errors(self, name: str, instance: object, *, fast: bool) -> list[Violation]:
        if fast and name == "request":
            pack = self._pack_of(name, instance)
            if pack and self._fast_one(pack, instance):  # the pack's schema holds the envelope
                return []
        found = self.schema_errors(name, instance, fast=fast)
        if name == "request":
            found = _unique(found + self._pack_request_errors(instance, fast))
        elif name in _TASK_AT:
            found += self._pack_task_errors(instance, _TASK_AT[name], fast)
        return found

    def schema_errors(self, name: str, instance: object, *, fast: bool = True) -> list[Violation]:
        """One schema's violations alone, without a pack's (none if the fast path accepts)."""
        if fast and self._fast_one(name, instance):
            return []
        return _unique(_flatten(self.validator(name).iter_errors(instance)))

    @property
    def supported(self) -> list[str]:
        """Every ``model/task_type`` with a request schema, sorted."""
        return sorted(f"{m}/{t}" for m, t in self._requests)

    def request_schemas(self) -> list[str]:
        """The file names of every pack's request schema."""
        return sorted(self._requests.values())

    def request_schema(self, model: object, task_type: object) -> str | None:
        """The file name of the request schema of a pair (None if it has no pack)."""
        if isinstance(model, str) and isinstance(task_type, str):
            return self._requests.get((model, task_type))
        return None

    def _pack_request_errors(self, body: object, fast: bool) -> list[Violation]:
        if not isinstance(body, dict) or not self._requests:
            return []
        model, task_type = body.get("model"), body.get("task_type")
        if not (isinstance(model, str) and isinstance(task_type, str)):
            return []
        name = self._requests.get((model, task_type))
        if name is None:
            return [_unsupported(model, task_type, self.supported)]
        return self.schema_errors(name, body, fast=fast)

    def _pack_task_errors(self, instance: object, at: str | None, fast: bool) -> list[Violation]:
        task = instance.get(at) if at and isinstance(instance, dict) else instance
        if not isinstance(task, dict):
            return []
        name = self._tasks.get((task.get("model"), task.get("task_type")))  # type: ignore[arg-type]
        if name is None:
            return []
        prefix = "/" + at if at else ""
        return [
            Violation(prefix + v.pointer, v.rule, v.message, v.provenance)
            for v in self.schema_errors(name, task, fast=fast)
        ]

    def fast_accepts(self, name: str, instance: object) -> bool:
        """Whether the compiled fast validators accept ``instance`` (by its pack too, for a
        request or a task kind; an unknown pair in a request is never accepted)."""
        if not self._fast_one(name, instance):
            return False
        pack = self._pack_of(name, instance)
        return pack is None or (pack != "" and self._fast_one(pack, _task_at(name, instance)))

    def _pack_of(self, name: str, instance: object) -> str | None:
        """The pack schema that also judges ``instance`` of kind ``name`` ("" if unknown)."""
        if name == "request" and isinstance(instance, dict) and self._requests:
            model, task_type = instance.get("model"), instance.get("task_type")
            if isinstance(model, str) and isinstance(task_type, str):
                return self._requests.get((model, task_type), "")
            return None
        if name in _TASK_AT:
            task = _task_at(name, instance)
            if isinstance(task, dict):
                return self._tasks.get((task.get("model"), task.get("task_type")))  # type: ignore[arg-type]
        return None

    def _fast_one(self, name: str, instance: object) -> bool:
        try:
            self._fast_validator(name)(instance)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    def is_valid(self, name: str, instance: object) -> bool:
        """Whether ``instance`` validates (by its pack too, for requests and tasks)."""
        return not self.errors(name, instance)

    def _fast_validator(self, name: str) -> Any:
        file_name = KINDS.get(name, name)
        found = self._fast.get(file_name)
        if found is None:
            code = fastjsonschema.compile_to_code(
                self._schemas[BASE_URI + file_name],
                handlers={"https": self._resolve_remote},
                formats={"uri": _looks_like_uri},
            )
            found = partial(_bare_rejections(code), custom_formats={"uri": _looks_like_uri})
            self._fast[file_name] = found
        return found

    def warm(self) -> int:
        """Compile the fast validators of every pack's request and task schema now, and build
        the authority's validators for them (how many schemas): a served fake calls it before
        it listens, so no client's request pays for the compiling (about half a second)."""
        names = [*self._requests.values(), *self._tasks.values(), *KINDS]
        for name in names:
            self._fast_validator(name)
            self.validator(name)
        return len(names)

    def _resolve_remote(self, uri: str) -> dict[str, Any]:
        return self._schemas[uri.split("#", 1)[0]]


class _Rejected(fastjsonschema.JsonSchemaValueException):
    """A rejection without details: the fast path only says yes or no."""

    __init__ = Exception.__init__


class _BareRaises(ast.NodeTransformer):
    def visit_Raise(self, node: ast.Raise) -> ast.Raise:
        exc = node.exc
        if isinstance(exc, ast.Call) and getattr(exc.func, "id", "") == "JsonSchemaValueException":
            node.exc = ast.Name("_Rejected", ast.Load())
        return node


#: fastjsonschema (draft 6+) lets ``5.0`` pass as an integer; this is that clause.
_FLOAT_AS_INTEGER: Final = re.compile(
    r" and not \(isinstance\((?P<v>[\w]+), float\) and (?P=v)\.is_integer\(\)\)"
)


def _strict_integers(code: str) -> str:
    """The generated code with integers as strict as the registry's (no ``5.0``, like Go)."""
    strict, count = _FLOAT_AS_INTEGER.subn("", code)
    if count != code.count(".is_integer()"):
        raise RuntimeError("fastjsonschema's integer check changed; update _FLOAT_AS_INTEGER")
    return strict


def _bare_rejections(code: str) -> Any:
    """The root validator of fastjsonschema's generated ``code``, raising :class:`_Rejected`.

    The generated code builds a message and a copy of the schema for every rejection, and its
    ``if``/``not``/``anyOf`` branches reject on the way to accepting (two per seed request):
    about 40% of its time. Rejections carry no detail here; :mod:`jsonschema` explains them.
    """
    tree = _BareRaises().visit(ast.parse(_strict_integers(code)))
    namespace: dict[str, Any] = {"_Rejected": _Rejected}
    exec(compile(ast.fix_missing_locations(tree), "<fastjsonschema>", "exec"), namespace)
    root = next(node.name for node in tree.body if isinstance(node, ast.FunctionDef))
    return namespace[root]


def _without_dialect(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != "$schema"}


def _looks_like_uri(value: str) -> bool:
    """Same leniency as jsonschema's ``uri`` format without rfc3987 installed: any string."""
    return True


def _load_directory(directory: Path) -> dict[str, dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(document)
        expected = BASE_URI + path.name
        if document.get("$id") != expected:
            raise ValueError(f"{path.name}: $id must be {expected!r}")
        schemas[expected] = document
    return schemas


def _flatten(errors: Iterable[ValidationError]) -> Iterator[Violation]:
    for error in errors:
        if error.context:
            yield from _flatten(error.context)
        else:
            yield from _violations(error)


def _violations(error: ValidationError) -> Iterator[Violation]:
    path = list(error.absolute_path)
    rule = str(error.validator)
    source = _provenance(error)
    if rule == "required" and isinstance(error.instance, dict):
        required: list[str] = list(error.validator_value)  # type: ignore[arg-type]
        for name in (k for k in required if k not in error.instance):
            yield Violation(pointer([*path, name]), rule, f"{name!r} is required", source)
    elif error.validator is None or (rule == "not" and error.validator_value == {}):
        # a false schema or {"not": {}}: the field may not appear at all
        yield Violation(pointer(path), "not allowed", "this field is not allowed here", source)
    else:
        yield Violation(pointer(path), rule, _message(rule, error), source)


def _task_at(kind: str, instance: object) -> object:
    """The task inside a payload of ``kind`` (itself for a task)."""
    at = _TASK_AT.get(kind)
    return instance.get(at) if at and isinstance(instance, dict) else instance


def _unique(found: Iterable[Violation]) -> list[Violation]:
    """Each violation once, sorted by pointer, rule and message."""
    return sorted(set(found), key=lambda v: (v.pointer, v.rule, v.message))


def _provenance(error: ValidationError) -> Provenance | None:
    """The ``x-provenance`` of the subschema whose keyword failed."""
    schema = error.schema
    return provenance_of(schema) if isinstance(schema, dict) and KEYWORD in schema else None


def _unsupported(model: str, task_type: str, supported: list[str]) -> Violation:
    """An unknown ``(model, task_type)``: names both fields and lists what the fake supports."""
    return Violation(
        "/task_type",
        "supported",
        f"model {_brief(model)} with task_type {_brief(task_type)} is not supported; "
        f"supported (model/task_type): {', '.join(supported)}",
    )


def _message(rule: str, error: ValidationError) -> str:
    """A short message that names the rule's bound, never a dump of the whole instance."""
    value = error.validator_value
    instance = error.instance
    size = len(instance) if isinstance(instance, (list, str, dict)) else 0
    templates: dict[str, str] = {
        "maxItems": f"has {size} items, at most {value} allowed",
        "minItems": f"has {size} items, at least {value} required",
        "maxLength": f"is {size} characters long, at most {value} allowed",
        "minLength": f"is {size} characters long, at least {value} required",
        "maximum": f"{_brief(instance)} is greater than the maximum of {value}",
        "minimum": f"{_brief(instance)} is less than the minimum of {value}",
        "enum": f"{_brief(instance)} is not one of {_brief(value)}",
        "const": f"{_brief(instance)} must be {_brief(value)}",
        "type": f"{_brief(instance)} is not of type {_brief(value)}",
        "pattern": f"{_brief(instance)} does not match {value!r}",
        "not": f"{_brief(instance)} is not allowed here ({_not_what(value)})",
    }
    return templates.get(rule, _brief(error.message, 300))


def _not_what(value: object) -> str:
    if isinstance(value, dict) and "$ref" in value:
        return "must not be " + str(value["$ref"]).rsplit("/", 1)[-1]
    if isinstance(value, dict) and "const" in value:
        return "must not be " + _brief(value["const"])
    return "must not match " + _brief(value)


def _brief(value: object, limit: int = 80) -> str:
    text = (
        value if isinstance(value, str) and limit == 300 else json.dumps(value, ensure_ascii=False)
    )
    return text if len(text) <= limit else text[: limit - 3] + "..."


@cache
def default_registry() -> SchemaRegistry:
    """The registry of the schemas and packs shipped with the package (loaded once)."""
    from mock_server.packs.book import default_book  # packs build on this module

    return default_book().registry
