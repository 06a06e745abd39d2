"""pytest plugin (entry point ``pytest11``): fixtures for the fake, its clock and webhooks."""

from __future__ import annotations
