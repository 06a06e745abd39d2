"""Run every ``bench/suite_*.py`` module's ``run()`` in name order."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def main() -> int:
    """Run the suites named on the command line, or all of them."""
    wanted = set(sys.argv[1:])
    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("suite_")
    )
    for name in names:
        if wanted and name.removeprefix("suite_") not in wanted:
            continue
        print(f"== {name.removeprefix('suite_')}", flush=True)
        importlib.import_module(f"bench.{name}").run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
