"""The documented "Testing your client" examples, run verbatim as a new user would.

The section lives in the long reference (``docs/*.md``) since the README was cut to a short
quickstart; the test finds it in whichever of README.md and docs/*.md holds it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.socket

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SECTION = re.compile(r"<!-- BEGIN plugin -->(.*?)<!-- END plugin -->", re.S)
BLOCK = re.compile(r"```python\n# ((?:test_\w+|conftest)\.py)\n(.*?)```", re.S)


def examples(text: str) -> dict[str, str]:
    """The section's Python blocks that name a file on their first line: {file: code}."""
    section = SECTION.search(text)
    assert section is not None, "no document has the plugin section"
    return dict(BLOCK.findall(section.group(1)))


def readme_text() -> str:
    """The document holding the plugin section (README.md first, then docs/)."""
    texts = [path.read_text(encoding="utf-8") for path in DOCS if path.exists()]
    return next((t for t in texts if SECTION.search(t)), "")


def test_the_section_has_the_promised_examples() -> None:
    names = set(examples(readme_text()))
    assert {"test_video.py", "test_requests_client.py", "test_webhook.py"} <= names


def test_the_extractor_sees_a_broken_example() -> None:
    broken = "<!-- BEGIN plugin -->\n```python\n# test_x.py\nassert False\n```\n<!-- END plugin -->"
    assert examples(broken) == {"test_x.py": "assert False\n"}


def test_every_example_passes_as_written(pytester: pytest.Pytester) -> None:
    found = examples(readme_text())
    for name, code in found.items():
        pytester.makepyfile(**{name.removesuffix(".py"): code})
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest("-p", "no:hypothesispytest", "-W", "error")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= len(found), result.stdout.str()
    result.assert_outcomes(passed=outcomes["passed"])
