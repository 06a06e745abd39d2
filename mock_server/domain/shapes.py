"""The rendering shape of a task record: its pack variant bound to what the task makes."""

from __future__ import annotations

from functools import cache
from typing import Final

from mock_server.domain.models import TaskRecord
from mock_server.packs import Shape, default_book, shape_of

#: What a record without a variant is (tests build bare records): omni 3.0, a 5 s 16:9 video.
_DEFAULT_MEDIA: Final = "video/1/1280x720/5"


def shape(record: TaskRecord) -> Shape:
    """The shape that renders ``record``'s output and usage (built once per distinct pair)."""
    if record.variant:
        return shape_of(record.variant, record.media)
    return _default_shape()


@cache
def _default_shape() -> Shape:
    pack = default_book().named("kling-omni_video_generation")
    variant = pack.variant({"version": "3.0"})
    return shape_of(variant.key, _DEFAULT_MEDIA)
