"""The domain without HTTP: clocks, the pure lifecycle, rendering, timings, settings."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain import timing
from mock_server.domain.backend import manual_backend
from mock_server.domain.clock import NS, ManualClock, SystemClock
from mock_server.domain.lifecycle import transitions, view
from mock_server.domain.models import Failure, Status
from mock_server.domain.render import rfc3339, task_json
from mock_server.packs import default_book
from mock_server.schema_registry import default_registry
from mock_server.settings import Settings, from_env
from tests.conftest import EXAMPLES, seed_request


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(start_ns=10 * NS)
    assert clock.now() == clock.now() == 10 * NS
    clock.advance(1.5)
    assert clock.now() == 11_500_000_000
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    assert clock.wall_delay(5) is None


def test_system_clock_speed_scales_wall_time() -> None:
    clock = SystemClock(speed=1000.0, start_ns=0)
    assert clock.wall_delay(80) == pytest.approx(0.08)
    clock.advance(100)
    assert clock.now() >= 100 * NS
    clock.set_speed(2.0)
    assert clock.speed == 2.0
    with pytest.raises(ValueError, match=r"between 0\.001 and"):
        SystemClock(speed=0)


def test_rfc3339_matches_go() -> None:
    assert rfc3339(None) == "0001-01-01T00:00:00Z"
    assert rfc3339(1_770_431_477 * NS) == "2026-02-07T02:31:17Z"
    assert rfc3339(1_770_431_477 * NS + 998_381_738) == "2026-02-07T02:31:17.998381738Z"
    assert rfc3339(1_770_431_477 * NS + 350_000_000) == "2026-02-07T02:31:17.35Z"


def test_lifecycle_is_a_pure_function_of_time() -> None:
    backend, _clock = manual_backend()
    record = backend.create("k", seed_request(), "http://x").record
    assert record.start_at is not None
    start, end = record.start_at, record.start_at + record.run_ns
    assert view(record, start - 1).status is Status.PENDING
    assert view(record, start).status is Status.PROCESSING
    assert view(record, end - 1).status is Status.PROCESSING
    assert view(record, end).status is Status.COMPLETED
    assert view(record, start).status is Status.PROCESSING  # asking again changes nothing
    assert [s for _, s in transitions(record)] == [
        Status.PENDING,
        Status.PROCESSING,
        Status.COMPLETED,
    ]


def test_forced_failure_and_cancel_views() -> None:
    backend, clock = manual_backend(Settings(cancel_status="cancelled"))
    record = backend.create("k", seed_request(), "http://x").record
    backend.cancel("k", record.task_id)
    assert backend.view(record).status is Status.CANCELLED
    assert backend.view(record).error is None
    other = backend.create("k", seed_request(), "http://x").record
    clock.advance(5)
    backend.fail(other, Failure(1301, "content policy", "risk control"))
    failed = backend.view(other)
    assert failed.status is Status.FAILED
    assert failed.consume == 0


def test_rendered_task_matches_the_seed_response_shape() -> None:
    """Same keys, order and types as the user's example; validates as a task."""
    backend, _ = manual_backend()
    rendered = json.loads(task_json(backend.create("k", seed_request(), "http://x")))
    example = json.loads((EXAMPLES / "seed-response.json").read_text())["data"]

    def shape(value: object) -> object:
        if isinstance(value, dict):
            return [(k, shape(v)) for k, v in value.items() if k != "input"]
        return type(value).__name__

    assert shape(rendered) == shape(example)
    assert default_registry().errors("task", rendered) == []


def test_timings_follow_the_real_service() -> None:
    rng = random.Random(1)
    omni = default_book().named("kling-omni_video_generation")
    short_input = {"version": "3.0", "duration": 3, "resolution": "720p"}
    short = timing.draw(rng, omni, short_input)
    assert 0.3 * NS <= short.pending_ns <= 1.0 * NS
    assert 70 * NS <= short.run_ns <= 95 * NS
    long = timing.nominal_run_seconds(
        omni, {"version": "3.0", "duration": 15, "resolution": "1080p", "enable_audio": True}
    )
    assert long > timing.nominal_run_seconds(omni, {"version": "3.0", "duration": 15})


def test_same_seed_same_ids_and_timings() -> None:
    def run() -> list[tuple[str, int | None]]:
        backend, _ = manual_backend(Settings(seed=42))
        return [
            (v.task_id, v.record.start_at)
            for v in (backend.create("k", seed_request(), "http://x") for _ in range(3))
        ]

    assert run() == run()
    backend, _ = manual_backend(Settings(seed=43))
    assert backend.create("k", seed_request(), "http://x").task_id != run()[0][0]


def test_settings_from_env() -> None:
    env = {
        "PIAPI_MOCK_SPEED": "100",
        "PIAPI_MOCK_API_KEYS": "a, b",
        "PIAPI_MOCK_CONTROL": "false",
        "PIAPI_MOCK_PORT": "9000",
    }
    settings = from_env(env)
    assert (settings.speed, settings.api_keys, settings.control, settings.port) == (
        100.0,
        ("a", "b"),
        False,
        9000,
    )
    with pytest.raises(ValueError, match="PIAPI_MOCK_CONTROL"):
        from_env({"PIAPI_MOCK_CONTROL": "maybe"})
    with pytest.raises(TypeError, match="unknown settings: nope"):
        Settings().replace(nope=1)


@given(st.integers(min_value=0, max_value=(1 << 128) - 1))
def test_task_ids_are_the_uuid_modules_version_4_text(bits: int) -> None:
    import uuid

    from mock_server.domain.ids import uuid4_text

    assert uuid4_text(bits) == str(uuid.UUID(int=bits, version=4))


def test_the_id_check_catches_a_missing_version_mark() -> None:
    import uuid

    bits = (1 << 128) - 1  # every bit set: version and variant bits must be cleared
    h = f"{bits:032x}"
    unmarked = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    assert unmarked != str(uuid.UUID(int=bits, version=4))
