"""The kit knows only the schemas and HTTP: it never imports the fake's domain or web layer.

One exception: ``client.py`` may import ``mock_server.web.app.create_asgi`` inside a function
(the "answer from the in-process fake" mode). Plugin-only modules (``plugin.py`` and the
fixtures' helpers, written by the plugin's author) wrap the fake and are not the kit.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import contract_tests

KIT = Path(contract_tests.__file__).parent
#: The kit's modules (everything the contract suite and the client kit are made of).
KIT_MODULES = [
    *("__init__", "asgi", "checks", "cli", "client", "drawn_server", "drawn_tasks", "endpoint"),
    *("facts", "failures", "hooks", "instants", "invalid", "lifecycle_checks", "phases"),
    *("junit", "prices", "profiles", "registry", "report", "stateful", "strategies", "suite"),
    "packs",
    "verdicts",
]
FORBIDDEN = ("mock_server.domain", "mock_server.web")
ALLOWED_LAZY = {("client.py", "mock_server.web.app", "create_asgi")}


def forbidden_imports(path: Path, source: str) -> list[str]:
    """``file:line module`` of every import of the domain or web layer, minus the exception."""
    found = []
    tree = ast.parse(source)
    top_level = set(tree.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [(alias.name, "") for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [(node.module, alias.name) for alias in node.names]
        else:
            continue
        for module, name in modules:
            if not module.startswith(FORBIDDEN):
                continue
            lazy = node not in top_level and not isinstance(node, ast.Import)
            if lazy and (path.name, module, name) in ALLOWED_LAZY:
                continue
            found.append(f"{path.name}:{node.lineno} {module}")
    return found


def test_kit_modules_import_neither_domain_nor_web() -> None:
    offenders = []
    for name in KIT_MODULES:
        path = KIT / f"{name}.py"
        offenders += forbidden_imports(path, path.read_text(encoding="utf-8"))
    assert offenders == []


def test_the_ast_rule_bites() -> None:
    sneaky = "import json\nfrom mock_server.domain.pricing import PriceTable\n"
    assert forbidden_imports(KIT / "checks.py", sneaky) == [
        "checks.py:2 mock_server.domain.pricing"
    ]
    lazy_elsewhere = "def f():\n    from mock_server.web.app import create_asgi\n"
    assert forbidden_imports(KIT / "suite.py", lazy_elsewhere) == ["suite.py:2 mock_server.web.app"]
    assert forbidden_imports(KIT / "client.py", lazy_elsewhere) == []
    top_level = "from mock_server.web.app import create_asgi\n"
    assert forbidden_imports(KIT / "client.py", top_level) == ["client.py:1 mock_server.web.app"]


def test_importing_the_kit_loads_neither_domain_nor_web() -> None:
    code = (
        "import sys, importlib\n"
        f"for name in {KIT_MODULES!r}:\n"
        "    suffix = '' if name == '__init__' else '.' + name\n"
        "    importlib.import_module('contract_tests' + suffix)\n"
        f"bad = [m for m in sys.modules if m.startswith({FORBIDDEN!r})]\n"
        "print(bad)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr
