"""Where the contract's data files live, in a checkout and in an installed wheel.

The wheel carries ``schemas/`` and ``fixtures/`` inside the package as ``mock_server/_data/``
(see ``pyproject.toml``); a source checkout reads them from the repository's top level.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


def schemas_dir() -> Path:
    """The folder of JSON Schema files."""
    return _data_dir("schemas")


def fixtures_dir() -> Path:
    """The folder of fixtures: documented examples, price tables, sample media."""
    return _data_dir("fixtures")
