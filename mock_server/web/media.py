"""Which sample file answers a storage URL (``/storage/<folder>/<task_id>[-n].<ext>``)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from mock_server.domain.backend import Backend
from mock_server.domain.models import Status
from mock_server.domain.shapes import shape
from mock_server.packs.templates import MEDIA, Media
from mock_server.resources import fixtures_dir

VIDEO_FILES: Final = {"16:9": "sample-16x9.mp4", "9:16": "sample-9x16.mp4", "1:1": "sample-1x1.mp4"}
#: The sample file and media type of each media kind (videos by aspect ratio, above).
FILES: Final = {
    "image": ("sample.png", "image/png"),
    "cover": ("sample.jpg", "image/jpeg"),
    "audio": ("sample.mp3", "audio/mpeg"),
}
_KIND_OF_FOLDER: Final = {folder: kind for kind, (folder, _ext) in MEDIA.items()}


def locate(backend: Backend, folder: str, name: str) -> tuple[Path, str] | None:
    """The file and media type for a storage URL, or None (404) if no completed task has it.

    ``<id>.<ext>`` is a task's only file, ``<id>-<n>.<ext>`` its n-th of several, and
    ``images/<id>-cover.jpg`` a video's cover (the legacy Kling output names one).
    """
    kind = _KIND_OF_FOLDER.get(folder)
    stem, dot, ext = name.rpartition(".")
    if kind is None or not dot:
        return None
    if kind == "image" and ext == "jpg" and stem.endswith("-cover"):
        made = _completed_media(backend, stem.removesuffix("-cover"))
        return _file("cover") if made is not None and made.kind == "video" else None
    task_id, index = stem, None
    made = _completed_media(backend, stem)
    if made is None:
        task_id, _, tail = stem.rpartition("-")
        index = int(tail) if tail.isascii() and tail.isdigit() and len(tail) <= 4 else None
        made = _completed_media(backend, task_id) if index is not None else None
    if made is None or made.kind != kind or ext != MEDIA[kind][1]:
        return None
    if (made.count == 1) != (index is None) or (index is not None and index >= made.count):
        return None
    if kind == "video":
        record = backend.store.get(task_id)
        ratio = record.aspect_ratio if record is not None else "16:9"
        return fixtures_dir() / "media" / VIDEO_FILES.get(ratio, VIDEO_FILES["16:9"]), "video/mp4"
    return _file(kind)


def _completed_media(backend: Backend, task_id: str) -> Media | None:
    record = backend.store.get(task_id) if task_id else None
    if record is None or backend.view(record).status is not Status.COMPLETED:
        return None
    return shape(record).media


def _file(kind: str) -> tuple[Path, str]:
    name, media_type = FILES[kind]
    return fixtures_dir() / "media" / name, media_type
