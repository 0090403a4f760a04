"""The organiser dashboard's live figures, made once and shared by every dashboard open.

Each open dashboard asks for its figures every 15 s. Nationally they cost about half a
second of database work (``attendance.live_refresh`` in docs/performance.md), and they are
the same for every organiser watching the same session, province and language. So each
process makes that part of the page once per ``ATTENDANCE_LIVE_SECONDS`` (or once for
each request that finds it stale at the same moment) and serves it to every dashboard that
asks in between; the page says when it was made.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable

from flask import current_app


class SharedFragments:
    """Rendered fragments by key, each kept for a number of seconds (one per app)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._made: dict[Hashable, tuple[float, str]] = {}

    def get(self, key: Hashable, seconds: float, make: Callable[[], str]) -> str:
        now = self._clock()
        with self._lock:
            found = self._made.get(key)
        if found is not None and now - found[0] < seconds:
            return found[1]
        fragment = make()
        with self._lock:
            # The expired go as new ones come: a process keeps only what was asked lately.
            self._made = {k: v for k, v in self._made.items() if now - v[0] < seconds}
            self._made[key] = (now, fragment)
        return fragment


def shared_fragment(key: Hashable, make: Callable[[], str]) -> str:
    """The fragment made for ``key`` in the last ATTENDANCE_LIVE_SECONDS, or a new one."""
    seconds = current_app.config["ATTENDANCE_LIVE_SECONDS"]
    if seconds <= 0:
        return make()
    fragments = current_app.extensions.get("attendance_live")
    if fragments is None:
        fragments = current_app.extensions.setdefault("attendance_live", SharedFragments())
    return fragments.get(key, seconds, make)
