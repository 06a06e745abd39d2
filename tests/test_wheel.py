"""A plain (non-editable) wheel carries schemas/ and fixtures/ and validates the seed's examples.

The wheel is built without network and installed with ``--no-deps`` into a fresh venv that
sees this environment's dependencies through a ``.pth`` file, and is run from another folder,
so only the wheel's own files can be found.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    (built,) = out.glob("piapi_mock-*.whl")
    return built


def test_the_wheel_carries_the_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "mock_server/_data/schemas/task.json" in names
    assert "mock_server/_data/schemas/packs/kling-omni_video_generation/prices/seed.json" in names
    assert "mock_server/_data/fixtures/media/sample-16x9.mp4" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    # The dashboard's static files (docs/dashboard.md): the page is assembled from them.
    for static in ("index.html", "app.js", "style.css"):
        assert f"mock_server/web/ui/static/{static}" in names


def test_installed_wheel_validates_the_seed_examples(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(purelib)
    # The dependencies come from this environment; the package itself only from the wheel.
    (Path(purelib) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    command = [str(python), "-m", "mock_server.cli", "validate"]
    ok = subprocess.run(
        [*command, "request", str(EXAMPLES / "seed-request.json")],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env={"PYTHONSAFEPATH": "1"},
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    located = subprocess.run(
        [str(python), "-c", "import mock_server.resources as r; print(r.schemas_dir())"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "_data" in located
    assert str(ROOT) not in located
    dashboard = subprocess.run(
        [str(python), "-c", "from mock_server.web.ui import handlers; print(handlers.page()[0])"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env={"PYTHONSAFEPATH": "1"},
    )
    assert dashboard.returncode == 0, dashboard.stderr
    assert "function moved(poll)" in dashboard.stdout  # the script, inlined from the wheel
    bad = subprocess.run(
        [*command, "request", str(EXAMPLES / "invalid" / "aspect-4-3.json")],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert "/input/aspect_ratio" in bad.stdout
