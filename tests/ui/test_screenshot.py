"""``make screenshot`` keeps working: the script writes a PNG of the populated dashboard."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.conftest import ROOT

pytestmark = [pytest.mark.socket, pytest.mark.slow]


def test_the_screenshot_script_writes_a_png(tmp_path: Path) -> None:
    out = tmp_path / "dashboard.png"
    done = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "screenshot.py"), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 20_000  # a page with content, not a blank frame


def test_the_size_check_catches_a_blank_frame(page: Page, tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    page.goto("about:blank")
    page.screenshot(path=str(blank), full_page=True)
    assert blank.stat().st_size < 20_000
