"""Garbage-collector policy for ``serve``: short full collections while the store grows.

Every stored task is one GC-tracked ``TaskRecord``; CPython's full (generation 2) collection
walks every tracked object, so with a few hundred thousand tasks one full collection stops
the server for 100-300 ms. The policy:

- after start-up, one collection and :func:`gc.freeze`: modules, schemas and the app (about
  a hundred thousand objects that live as long as the process) are never walked again;
- after every full collection, :func:`gc.freeze` again: what survived a full collection is
  reachable, so the next one walks only what was created since (with CPython's rule of a full
  collection per 25% growth, about a fifth of the heap: pauses ~5x shorter, same schedule).

Frozen objects are still freed by reference counting (a task dropped by ``reset`` or
``--retention`` is freed as before); only a reference *cycle* that includes an object alive at
a freeze is never collected. Task records hold no cycles; a bench of a million mixed requests
(creates, gets, 4xx) left nothing behind (``tests/test_gc_policy.py`` checks the mechanism).
Used by ``serve`` only; in-process uses (tests, the plugin) keep CPython's defaults.
"""

from __future__ import annotations

import gc
from typing import Any, Final

FULL: Final = 2


def _freeze_after_full(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == FULL:
        gc.freeze()


def installed() -> bool:
    """Whether the policy is active in this process."""
    return _freeze_after_full in gc.callbacks


def install() -> None:
    """Freeze what start-up built, and freeze after every full collection (idempotent)."""
    gc.collect()
    gc.freeze()
    if not installed():
        gc.callbacks.append(_freeze_after_full)


def uninstall() -> None:
    """Back to CPython's defaults: stop freezing, and let the collector see every object."""
    while installed():
        gc.callbacks.remove(_freeze_after_full)
    gc.unfreeze()
