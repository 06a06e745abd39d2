"""Import rules: the domain and the registry never import the web framework."""

from __future__ import annotations

import subprocess
import sys

import pytest

BLOCK_STARLETTE = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "starlette" or name.startswith("starlette."):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
import importlib, pkgutil
import mock_server.domain as domain
for module in pkgutil.iter_modules(domain.__path__):
    importlib.import_module("mock_server.domain." + module.name)
import mock_server.schema_registry, mock_server.contract_rules, mock_server.settings
print("ok")
"""


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_domain_imports_without_starlette() -> None:
    result = run(BLOCK_STARLETTE)
    assert result.stdout.strip() == "ok", result.stderr


def test_the_blocker_bites() -> None:
    """The same blocker does stop a module that imports Starlette."""
    result = run(BLOCK_STARLETTE.replace('print("ok")', "import mock_server.web.app"))
    assert result.returncode != 0
    assert "blocked: starlette" in result.stderr


@pytest.mark.parametrize("package", ["mock_server.domain"])
def test_no_web_imports_in_source(package: str) -> None:
    import ast
    import importlib
    from pathlib import Path

    root = Path(importlib.import_module(package).__path__[0])
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(("starlette", "uvicorn", "mock_server.web")), path
