"""``piapi-mock contract``: run the contract suite against any server.

Exit status 0 when no rule is broken, 1 on any violation (the report names the check, the
rule, the JSON pointer, the evidence and the shrunk example), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation
from typing import Any


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
        help="without a control plane: create real tasks up to this total price",
    )
    parser.add_argument("--wait-budget", type=float, default=900.0, help="seconds to wait (live)")
    parser.add_argument("--price-table", default="seed", help="price table the target bills by")
    parser.add_argument("--skip-check", action="append", default=[], metavar="NAME")
    parser.add_argument("--phase", action="append", default=[], metavar="NAME", help="only these")
    parser.add_argument("--list-checks", action="store_true", help="print the checks and exit")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the suite as ``args`` say; print the report; the exit status."""
    import httpx

    from contract_tests.checks import CHECKS
    from contract_tests.endpoint import Endpoint
    from contract_tests.suite import DEFAULT_EXAMPLES, SuiteOptions, run_suite

    if args.list_checks:
        for check in CHECKS.values():
            print(f"{check.name:<25}{check.doc.replace('``', '`')}")
        return 0
    options = SuiteOptions(
        max_examples=args.max_examples or DEFAULT_EXAMPLES,
        seed=args.seed,
        allow_spend_usd=args.allow_spend_usd,
        wait_budget=args.wait_budget,
        price_table=args.price_table,
        skip=tuple(args.skip_check),
        only=tuple(args.phase),
    )
    with httpx.Client(base_url=args.base_url, timeout=args.timeout) as client:
        endpoint = Endpoint(client, args.api_key, args.other_api_key)
        try:
            report = run_suite(endpoint, options)
        except httpx.HTTPError as exc:
            print(f"piapi-mock contract: cannot reach {args.base_url}: {exc}", file=sys.stderr)
            return 2
    print(report.render())
    return 0 if report.ok else 1
