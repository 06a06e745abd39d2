"""Task-type packs: the contract of one ``(model, task_type)`` as data (``schemas/packs/<name>/``).

Importable without the domain or the web layer: the fake, ``validate``, the OpenAPI document
and the contract kit all read packs through :func:`default_book` or :func:`book_for`.
"""

from __future__ import annotations

from mock_server.packs.book import PackBook, UnsupportedTask, book_for, default_book
from mock_server.packs.model import Link, Pack, Variant
from mock_server.packs.templates import Shape, shape_of

__all__ = [
    "Link",
    "Pack",
    "PackBook",
    "Shape",
    "UnsupportedTask",
    "Variant",
    "book_for",
    "default_book",
    "shape_of",
]
