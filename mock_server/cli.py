"""``piapi-mock``: serve the fake, validate captured payloads, print the OpenAPI document."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from mock_server import __version__, flag_help
from mock_server.schema_registry import KINDS, Violation
from mock_server.settings import Settings, field_names, from_env, parser_for

#: Repeatable flags named in the singular.
_SINGULAR = {"api_keys": "api-key", "webhook_allow": "webhook-allow", "packs": "pack"}
#: Settings that are not flags of ``serve``.
_NOT_FLAGS = {"extra"}


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    defaults = Settings()
    for name in field_names():
        if name in _NOT_FLAGS:
            continue
        default = getattr(defaults, name)
        flag = "--" + _SINGULAR.get(name, name.replace("_", "-"))
        env = "PIAPI_MOCK_" + name.upper()
        about = flag_help.sentence(name)
        if isinstance(default, bool):
            parser.add_argument(
                flag,
                dest=name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=f"{about} (env {env}, default {default})",
            )
        elif isinstance(default, tuple):
            parser.add_argument(
                flag,
                dest=name,
                action="append",
                default=None,
                help=f"{about} Repeatable (env {env}, comma-separated).",
            )
        else:
            parser.add_argument(
                flag,
                dest=name,
                type=parser_for(name),
                choices=flag_help.CHOICES.get(name),
                default=None,
                help=f"{about} (env {env}, default {default!r})",
            )


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Defaults, then ``PIAPI_MOCK_*`` variables, then flags."""
    changes: dict[str, Any] = {}
    for name in field_names():
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = tuple(value) if isinstance(value, list) else value
    return from_env().replace(**changes)


def _serve(args: argparse.Namespace) -> int:
    from mock_server import server, workers
    from mock_server.web.app import create_asgi

    settings = settings_from_args(args)
    workers.check(settings)
    check_listen(settings.host, settings.port)  # before the banner: one clear line, exit 2
    stack = server.stack()
    if settings.workers > 1:
        print(
            f"piapi-mock on http://{settings.host}:{settings.port}: {settings.workers} "
            f"workers over {settings.store}; uvicorn {stack}",
            flush=True,
        )
        workers.serve_workers(settings, server.uvicorn_options(settings, stack))
        return 0
    app = create_asgi(settings)
    app.state.backend.listening.add((settings.host, settings.port))
    print(
        f"piapi-mock on http://{settings.host}:{settings.port} (speed x{settings.speed}, "
        f"seed {settings.seed}, prices {settings.price_table}, store {settings.store}; "
        f"uvicorn {stack}{'' if stack.fast else ', slow fallback: install uvloop and httptools'})",
        flush=True,
    )
    server.serve(app, settings)
    return 0


def check_listen(host: str, port: int) -> None:
    """``ValueError`` (exit 2, one line) if ``host:port`` cannot be listened on: a port out
    of 1-65535, a port in use, an address this machine does not have."""
    import errno
    import socket

    if not 0 < port < 65536:
        raise ValueError(f"--port {port}: a port is 1-65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ValueError(f"--host {host}: cannot be resolved ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ValueError(f"--port {port}: {host}:{port} is already in use") from None
            why = exc.strerror
            raise ValueError(f"--host {host} --port {port}: cannot listen ({why})") from None


def _read(source: str) -> tuple[str, str]:
    if source == "-":
        return "<stdin>", sys.stdin.read()
    return source, Path(source).read_text(encoding="utf-8")


def validate_text(
    kind: str, text: str, packs: Sequence[str] = (), strictness: str = "all"
) -> list[Violation]:
    """Violations of a JSON text against ``kind`` (requests also get the semantic rules).

    Requests and tasks are judged by the pack of their ``(model, task_type)``; ``packs`` adds
    user pack folders. Each violation names its rule's source (documented, observed, guess).
    """
    from mock_server.contract_rules import request_violations
    from mock_server.packs import book_for

    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        return [
            Violation("", "json", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        ]
    book = book_for(tuple(packs))
    if kind == "request":
        return request_violations(payload, book=book, strictness=strictness)
    found = book.registry.errors(kind, payload)
    return [v for v in found if not v.is_guess] if strictness == "documented" else found


def _validate(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    failed = 0
    for source in args.files:
        try:
            name, text = _read(source)
        except OSError as exc:
            print(f"{source}: cannot read: {exc.strerror}", file=out)
            failed += 1
            continue
        violations = validate_text(args.kind, text, args.packs or (), args.strictness)
        if violations:
            failed += 1
            for violation in violations:
                print(f"{name}: {violation}", file=out)
        else:
            print(f"{name}: valid {args.kind}", file=out)
    return 1 if failed else 0


def _deviations(args: argparse.Namespace) -> int:
    from mock_server import deviations

    text = deviations.markdown()
    if not args.write:
        print(text, end="")
        return 0
    path = Path(args.write)
    current = path.read_text(encoding="utf-8")
    begin, end = current.find(deviations.MARK_BEGIN), current.find(deviations.MARK_END)
    if begin < 0 or end < begin:
        raise ValueError(f"{path}: no {deviations.MARK_BEGIN!r} ... {deviations.MARK_END!r}")
    tail = current[end + len(deviations.MARK_END) :].removeprefix("\n")
    path.write_text(current[:begin] + text + tail, encoding="utf-8")
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from mock_server.web.openapi import openapi_document

    print(json.dumps(openapi_document(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="piapi-mock", description=__doc__)
    parser.add_argument("--version", action="version", version=f"piapi-mock {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the fake PiAPI server",
        description="Run the fake PiAPI server. Every flag is also a PIAPI_MOCK_* variable "
        "and a pytest marker keyword of the same name; where 0 turns a limit off, the flag "
        "says so.",
    )
    _add_setting_flags(serve)
    serve.set_defaults(run=_serve)
    validate = commands.add_parser(
        "validate", help="validate captured payloads against the contract"
    )
    validate.add_argument("kind", choices=sorted(KINDS))
    validate.add_argument(
        "files", nargs="+", metavar="FILE", help="JSON files; - reads standard input"
    )
    validate.add_argument(
        "--pack",
        dest="packs",
        action="append",
        metavar="PATH",
        help="also load the pack (or folder of packs) at PATH; repeatable",
    )
    validate.add_argument(
        "--strictness",
        choices=["all", "documented"],
        default="all",
        help="all: every rule; documented: only documented and observed rules (not guesses)",
    )
    validate.set_defaults(run=_validate)
    deviations = commands.add_parser(
        "deviations", help="print every guessed rule (the README's Known deviations list)"
    )
    deviations.add_argument(
        "--write", metavar="FILE", help="replace the generated list between its markers in FILE"
    )
    deviations.set_defaults(run=_deviations)
    openapi = commands.add_parser("openapi", help="print the OpenAPI 3.1 document of the faked API")
    openapi.set_defaults(run=_openapi)
    from contract_tests.cli import register

    register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``piapi-mock`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
        sys.stdout.flush()
    except ValueError as exc:
        parser.exit(2, f"piapi-mock: {exc}\n")
    except BrokenPipeError:  # `piapi-mock openapi | head`: the reader left; nothing to say
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
