"""Task records for the pure webhook tests (schedule, refused lane): created at :data:`T0`."""

from __future__ import annotations

from mock_server.domain.clock import NS
from mock_server.domain.models import Failure, TaskRecord, WebhookTarget

T0 = 1_000 * NS


def record(
    task_id: str = "t1",
    start: int | None = T0 + NS,
    run: int = 10 * NS,
    cancelled: int | None = None,
    failed: bool = False,
    endpoint: str = "http://127.0.0.1:1/hook",
) -> TaskRecord:
    """A task created at ``T0`` that starts at ``start`` and runs ``run`` ns."""
    return TaskRecord(
        task_id=task_id,
        owner="k",
        model="kling",
        task_type="omni_video_generation",
        input_json="{}",
        config_json="{}",
        aspect_ratio="16:9",
        cost=1,
        private_pool=False,
        base_url="http://x",
        created_at=T0,
        start_at=start,
        run_ns=run,
        cancelled_at=cancelled,
        failure=Failure(500, "boom") if failed else None,
        webhook=WebhookTarget(endpoint, ""),
    )
