"""``python -m mock_server``: the ``piapi-mock`` command."""

from __future__ import annotations

import sys

from mock_server.cli import main

if __name__ == "__main__":
    sys.exit(main())
