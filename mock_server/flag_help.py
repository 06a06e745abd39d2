"""One sentence per ``serve`` flag, read from the ``#:`` comments above each Settings field.

Every engineer documents a setting where it is declared; ``serve --help`` shows that text,
the choices a flag takes and its default. A field without a comment falls back to its name.
"""

from __future__ import annotations

import ast
import inspect
from functools import cache
from typing import Final

from mock_server import settings as settings_module

#: Flags that take one of a few values (argparse refuses others, naming flag and choices).
CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "cancel_status": ("failed", "cancelled"),
    "webhook_events": ("all", "terminal"),
    "strictness": ("all", "documented"),
}
#: Sentences for fields declared without a ``#:`` comment.
FALLBACK: Final[dict[str, str]] = {
    "host": "Address to listen on (0.0.0.0: every interface).",
    "port": "TCP port to listen on (1-65535).",
    "max_body_bytes": "Largest request body accepted, in bytes (larger: 413).",
    "journal_size": "Requests kept in the journal (/_mock/journal).",
    "webhook_attempts": "Attempts per webhook event before giving up.",
    "webhook_retry_delay": "Virtual seconds between attempts of one event.",
    "webhook_timeout": "Wall seconds one webhook attempt may take.",
    "webhook_concurrency": "Webhook attempts in flight at once, all hosts together.",
    "webhook_chaos_max_delay": "Longest chaos delay of an event, in virtual seconds.",
    "extra": "",
}


@cache
def comments() -> dict[str, str]:
    """Field name -> the ``#:`` comment lines above it in settings.py, joined."""
    source = inspect.getsource(settings_module)
    lines = source.splitlines()
    found: dict[str, str] = {}
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "Settings":
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    above: list[str] = []
                    index = item.lineno - 2
                    while index >= 0 and lines[index].strip().startswith("#:"):
                        above.insert(0, lines[index].strip()[2:].strip())
                        index -= 1
                    if above:
                        found[item.target.id] = " ".join(above)
    return found


def sentence(name: str) -> str:
    """What setting ``name`` does, in one or two sentences."""
    text = comments().get(name) or FALLBACK.get(name) or name.replace("_", " ") + "."
    return text.replace("``", "").replace("%", "%%")
