"""Rate limits with the ``limits`` library: a sliding window per caller, in process memory.

The sliding window counter weighs the previous window's count by how much of it still
overlaps the last minute: constant time and two counters per caller whatever the limit. (A
moving window keeps one timestamp per request allowed: at a partner limit of a million a
minute that is a list of a million entries per partner, copied by the library's expiry
timer every 10 ms.)

In-memory storage is right for one process (``openscore serve``); several workers would
each count on their own, so a deployment with many would point ``limits`` at Redis.

``limits``' memory storage sweeps expired counters from memory on a timer thread it starts
again, 10 ms after the last one, on any hit that finds it finished: under load, a hundred
new threads a second, each started from the event loop, which waits until the new thread
has run (and for the GIL to let it). That was 7% of the event loop's time in the standing
benchmark. :class:`SweptMemoryStorage` sweeps inline instead, at most once a second; a
counter past its expiry reads as zero either way (the storage checks on every read), so
sweeping only frees memory and when it happens changes no answer.
"""

from __future__ import annotations

import threading
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from openscore.errors import TooManyRequests

#: How often expired counters are swept from memory (seconds).
SWEEP_SECONDS = 1.0


class SweptMemoryStorage(MemoryStorage):
    """``limits``' in-memory storage, swept inline rather than by timer threads."""

    def __init__(self) -> None:
        super().__init__()
        self._sweep_lock = threading.Lock()
        self._next_sweep = time.monotonic() + SWEEP_SECONDS

    # Replaces MemoryStorage.__schedule_expiry (name-mangled), which every hit calls.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + SWEEP_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
        finally:
            self._sweep_lock.release()


class RateLimits:
    """Named limits (``"sign_in"``, ``"partner"`` ...) checked per key (who is asking)."""

    def __init__(self, limits: dict[str, str]) -> None:
        self._items: dict[str, RateLimitItem] = {name: parse(text) for name, text in limits.items()}
        self._limiter = SlidingWindowCounterRateLimiter(SweptMemoryStorage())

    def check(self, name: str, key: str) -> None:
        """Count one request by ``key`` against the limit ``name``; raise when over it."""
        item = self._items[name]
        if not self._limiter.hit(item, name, key):
            raise TooManyRequests(f"more than {item} requests; try again later")
