"""Prices from the data files: the seed's table by default, 1 USD = 10,000,000 points."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mock_server.domain.pricing import Prices
from mock_server.packs import default_book

OMNI = default_book().named("kling-omni_video_generation")


class Table:
    """The omni pack's prices under one table name (the old single-table API, for brevity)."""

    def __init__(self, name: str) -> None:
        self.prices = Prices(default_book(), name)

    def usd(self, task_input: dict[str, Any]) -> Decimal:
        return self.prices.usd(OMNI, task_input)

    def points(self, task_input: dict[str, Any]) -> int:
        return self.prices.points(OMNI, task_input)


SEED = Table("seed")
LATER = Table("2026-02-13")


@pytest.mark.parametrize(
    ("resolution", "audio", "per_second"),
    [
        ("720p", False, "0.15"),
        ("720p", True, "0.2"),
        ("1080p", False, "0.2"),
        ("1080p", True, "0.3"),
    ],
)
def test_the_seed_table(resolution: str, audio: bool, per_second: str) -> None:
    task_input = {"version": "3.0", "resolution": resolution, "enable_audio": audio, "duration": 7}
    assert SEED.usd(task_input) == Decimal(per_second) * 7
    assert SEED.points(task_input) == int(Decimal(per_second) * 7 * 10_000_000)


def test_documented_examples() -> None:
    """The contract notes' real usage figures (S2, S3)."""
    assert SEED.points({"version": "3.0", "duration": 3, "resolution": "720p"}) == 4_500_000
    shots: dict[str, Any] = {
        "version": "3.0",
        "enable_audio": True,
        "multi_shots": [{"prompt": "a", "duration": 2}, {"prompt": "b", "duration": 3}],
    }
    assert SEED.points(shots) == 10_000_000
    assert SEED.points({"version": "o1", "duration": 5, "resolution": "720p"}) == 3_900_000
    assert LATER.points({"version": "3.0", "duration": 7, "resolution": "720p"}) == 7_000_000


def test_defaults_when_fields_are_omitted() -> None:
    """duration 5, 720p, no audio; a shot without duration counts 3 s."""
    assert SEED.points({"version": "3.0", "prompt": "x"}) == 7_500_000
    assert OMNI.seconds({"multi_shots": [{"prompt": "a"}, {"prompt": "b", "duration": 4}]}) == 7


def test_o1_is_per_clip() -> None:
    assert SEED.usd({"version": "o1", "duration": 10, "resolution": "1080p"}) == Decimal("1.04")


def test_unknown_table_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"known: 2026-02-13, .*seed"):
        Prices(default_book(), "cheap")


def test_a_table_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(
        '{"name": "mine", "points_per_usd": 100, "x-provenance": {"grade": "guess", "reason":'
        ' "a test"}, "rows": {"per_second": {"720p": {"true": "1", "false": "0.5"}}}}'
    )
    prices = Prices(default_book(), str(path))
    assert prices.points(OMNI, {"version": "3.0", "duration": 3}) == 150


@pytest.mark.parametrize(
    ("task_input", "usd"),
    [
        ({"version": "4.0", "duration": 10, "resolution": "720p"}, "1.6670"),
        ({"version": "4.0", "duration": 3, "resolution": "1080p"}, "0.75"),
        ({"version": "4.0-flash", "duration": 20, "resolution": "720p"}, "2.00"),
        ({"version": "4.0", "duration": 30, "resolution": "1080p", "enable_audio": True}, "7.5"),
    ],
)
def test_kling_4_omni_prices_as_published(task_input: dict[str, Any], usd: str) -> None:
    """$0.1667/s at 720p and $0.25/s at 1080p for 4.0, $0.10/s for 4.0-flash, in both tables."""
    assert SEED.usd(task_input) == Decimal(usd)
    assert LATER.usd(task_input) == Decimal(usd)
