"""piapi-mock: an offline fake of PiAPI's task API for Kling omni video generation."""

from __future__ import annotations

__version__ = "0.1.0"
