"""``piapi-mock contract``: run the contract suite against any server.

Exit status 0 when no documented or observed rule is broken (guessed rules the server does
not share are reported as drift), 1 on any violation, on a check that could not be judged
(HTTP 429 after the retries) or, with ``--strict-guesses``, on drift; 2 on a usage error, an
unreachable server or a refused key. Progress goes to stderr as each phase starts and ends;
``--junit`` and ``--json`` write reports CI can read.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO


def _usd(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from exc
    if value < 0 or not value.is_finite():
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def register(commands: Any) -> None:
    """Add the ``contract`` subcommand to the CLI's subparsers."""
    parser = commands.add_parser(
        "contract",
        help="run the contract suite against a server (the fake, the real PiAPI, ...)",
        description=__doc__,
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="server to test")
    parser.add_argument("--api-key", default="contract-key", help="x-api-key to use")
    parser.add_argument("--other-api-key", default="", help="a second key (owner isolation)")
    parser.add_argument("--max-examples", type=int, default=None, help="examples per phase")
    parser.add_argument("--seed", type=int, default=None, help="Hypothesis seed (reproducible)")
    parser.add_argument(
        "--allow-spend-usd",
        type=_usd,
        default=Decimal(0),
        help="without a control plane: create real tasks up to this total price (each create "
        "is priced before it is sent; a task that cannot be cancelled counts in full)",
    )
    parser.add_argument("--wait-budget", type=float, default=900.0, help="seconds to wait (live)")
    parser.add_argument("--price-table", default="seed", help="price table the target bills by")
    parser.add_argument("--skip-check", action="append", default=[], metavar="NAME")
    parser.add_argument("--phase", action="append", default=[], metavar="NAME", help="only these")
    parser.add_argument(
        "--task-type",
        action="append",
        default=[],
        metavar="MODEL/TASK_TYPE",
        help="only these model/task_type pairs (repeatable)",
    )
    parser.add_argument(
        "--pack",
        action="append",
        default=[],
        metavar="PATH",
        help="a user pack folder (as the fake's --pack), tested with the shipped ones",
    )
    parser.add_argument(
        "--strict-guesses",
        action="store_true",
        help="a guessed rule the server does not share (drift) fails the run",
    )
    parser.add_argument("--junit", metavar="PATH", help="write a JUnit XML report")
    parser.add_argument("--json", metavar="PATH", help="write a JSON report")
    parser.add_argument("--list-checks", action="store_true", help="print the checks and exit")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument(
        "--max-retry-wait", type=float, default=30.0, help="longest Retry-After honoured (s)"
    )
    parser.set_defaults(run=run)


def _line_buffered(stream: TextIO) -> None:
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(line_buffering=True)


def run(args: argparse.Namespace) -> int:
    """Run the suite as ``args`` say; print the report; the exit status."""
    import httpx

    from contract_tests.checks import CHECKS
    from contract_tests.endpoint import Endpoint, Retry
    from contract_tests.junit import write_json, write_junit
    from contract_tests.suite import DEFAULT_EXAMPLES, KeyRefused, SuiteOptions, run_suite

    if args.list_checks:
        for check in CHECKS.values():
            guessed = " (a guess: its failures are drift)" if check.grade else ""
            print(f"{check.name:<25}{check.doc.replace('``', '`')}{guessed}")
        return 0
    _line_buffered(sys.stdout)
    _line_buffered(sys.stderr)

    def progress(line: str) -> None:
        print(f"piapi-mock contract: {line}", file=sys.stderr, flush=True)

    options = SuiteOptions(
        max_examples=args.max_examples or DEFAULT_EXAMPLES,
        seed=args.seed,
        allow_spend_usd=args.allow_spend_usd,
        wait_budget=args.wait_budget,
        price_table=args.price_table,
        skip=tuple(args.skip_check),
        only=tuple(args.phase),
        strict_guesses=args.strict_guesses,
        progress=progress,
        retry=Retry(max_wait=args.max_retry_wait),
        task_types=tuple(args.task_type),
        packs=tuple(args.pack),
    )
    with httpx.Client(base_url=args.base_url, timeout=args.timeout) as client:
        endpoint = Endpoint(client, args.api_key, args.other_api_key)
        try:
            report = run_suite(endpoint, options)
        except KeyRefused as exc:
            print(f"piapi-mock contract: {exc}", file=sys.stderr)
            return 2
        except httpx.HTTPError as exc:
            print(f"piapi-mock contract: cannot reach {args.base_url}: {exc}", file=sys.stderr)
            return 2
    if args.junit:
        write_junit(report, args.junit)
    if args.json:
        write_json(report, args.json)
    print(report.render(), flush=True)
    return report.exit_code
