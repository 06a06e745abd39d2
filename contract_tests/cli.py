"""``piapi-mock contract``: run the contract suite against any server."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    """Add the ``contract`` subcommand to the CLI's subparsers."""


__all__ = ["argparse", "register"]
