"""Run every ``bench/suite_*.py`` module's ``run()`` in name order (or the ones named).

``python -m bench [SUITE...] [--seconds S] [--rounds N] [--sustained S] [--store URL]
[--workers N]``: the options become ``PIAPI_BENCH_*`` variables, which the suites read.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence

import bench

#: Option name -> the variable the suites read.
OPTIONS = {
    "seconds": "PIAPI_BENCH_SECONDS",
    "rounds": "PIAPI_BENCH_ROUNDS",
    "sustained": "PIAPI_BENCH_SUSTAINED",
    "store": "PIAPI_BENCH_STORE",
    "workers": "PIAPI_BENCH_WORKERS",
}


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("suites", nargs="*", help="api, memory, webhooks, ... (default: all)")
    parser.add_argument("--seconds", type=float, help="seconds per wrk run (default 3)")
    parser.add_argument("--rounds", type=int, help="rounds per case (default 3)")
    parser.add_argument("--sustained", type=float, help="sustained create run, s (60; 0 skips)")
    parser.add_argument("--store", help="serve --store URL for the fake (default memory://)")
    parser.add_argument("--workers", type=int, help="serve --workers N for the fake (default 1)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suites named on the command line, or all of them."""
    args = parse(sys.argv[1:] if argv is None else argv)
    for name, variable in OPTIONS.items():
        value = getattr(args, name)
        if value is not None:
            os.environ[variable] = str(value)
    wanted = set(args.suites)
    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("suite_")
    )
    unknown = wanted - {name.removeprefix("suite_") for name in names}
    if unknown:
        print(f"unknown suites: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    for name in names:
        if wanted and name.removeprefix("suite_") not in wanted:
            continue
        print(f"== {name.removeprefix('suite_')}", flush=True)
        importlib.import_module(f"bench.{name}").run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
