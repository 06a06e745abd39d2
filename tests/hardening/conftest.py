"""Hardening tests reuse the webhook fixtures (receiver, dispatcher)."""

from __future__ import annotations

from tests.webhooks.conftest import dispatcher, receiver

__all__ = ["dispatcher", "receiver"]
