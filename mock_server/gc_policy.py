"""Garbage-collector policy for ``serve``: short full collections while the store grows.

Every stored task is one GC-tracked ``TaskRecord``; CPython's full (generation 2) collection
walks every tracked object, so with a few hundred thousand tasks one full collection stops
the server for 100-300 ms. The policy:

- after start-up, one collection and :func:`gc.freeze`: modules, schemas and the app (about
  a hundred thousand objects that live as long as the process) are never walked again;
- after every full collection, :func:`gc.freeze` again: what survived a full collection is
  reachable, so the next one walks only what was created since;
- the oldest generation's threshold at 0 (CPython's default is 10): a full collection may
  follow *every* middle collection, not every tenth, when CPython's own rule agrees (what
  reached the oldest generation since the last full one is over a quarter of what that one
  kept). With the freezing, each full collection walks only the objects since the last one,
  so they come about ten times as often and pause about a tenth as long for the same total
  work: a full collection at ~70,000 new tasks paused a served create for 35-60 ms on the
  bench machine (a 60 s create run's p99 of 11.7 ms); at ~4,000, 2-3 ms.

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
#: The oldest generation's threshold under the policy (see the module docstring).
OLDEST_THRESHOLD: Final = 0
#: The thresholds :func:`install` replaced (restored by :func:`uninstall`).
_REPLACED: list[tuple[int, int, int]] = []


def _freeze_after_full(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info.get("generation") == FULL:
        gc.freeze()


def installed() -> bool:
    """Whether the policy is active in this process."""
    return _freeze_after_full in gc.callbacks


def install() -> None:
    """Freeze what start-up built, freeze after every full collection, and let a full
    collection follow every middle one (idempotent)."""
    gc.collect()
    gc.freeze()
    # A second, empty full collection: CPython sizes the next one by what the last one kept,
    # and the first kept all of start-up (frozen now), which would let the first full
    # collection under load wait for, and walk, a quarter of start-up's objects.
    gc.collect()
    if not installed():
        gc.callbacks.append(_freeze_after_full)
        young, middle, oldest = gc.get_threshold()
        _REPLACED[:] = [(young, middle, oldest)]
        gc.set_threshold(young, middle, OLDEST_THRESHOLD)


def uninstall() -> None:
    """Back to CPython's defaults: stop freezing, the thresholds as they were, and let the
    collector see every object."""
    while installed():
        gc.callbacks.remove(_freeze_after_full)
    if _REPLACED:
        gc.set_threshold(*_REPLACED.pop())
    gc.unfreeze()
