"""Errors of the pack layer."""

from __future__ import annotations


class PackError(ValueError):
    """A pack that cannot be loaded, or an input a pack cannot price (the message says why)."""
