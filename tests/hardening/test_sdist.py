"""The sdist carries what its tests and ``make test`` need (issue #11: packaging)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tracked() -> set[str]:
    out = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return {line for line in out.splitlines() if line and (ROOT / line).is_file()}


@pytest.mark.slow
def test_the_sdist_holds_every_tracked_file(tmp_path: Path) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (an unpacked sdist has no file list to compare)")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (archive,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(archive) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
        metadata = sdist.extractfile(next(n for n in sdist.getnames() if n.endswith("PKG-INFO")))
        assert metadata is not None
        info = metadata.read().decode()
    missing = sorted(tracked() - names)
    assert missing == [], missing
    for field in [
        "License-Expression: MIT",
        "Classifier: Framework :: Pytest",
        "Project-URL:",
        "Keywords:",
        "Author:",
        "Description-Content-Type: text/markdown",
    ]:
        assert field in info, field
