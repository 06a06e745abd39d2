"""The live dashboard at ``/_mock/ui`` (control plane only; see docs/dashboard.md).

``routes()`` gives the page and its small JSON reads under ``/_mock/ui/api``; the page's
static files live in ``static/`` beside this module and ship in the wheel with the package.
"""

from __future__ import annotations

from mock_server.web.ui.handlers import routes

__all__ = ["routes"]
