"""Rate limits with the ``limits`` library: a sliding window per caller, in process memory.

The sliding window counter weighs the previous window's count by how much of it still
overlaps the last minute: constant time and two counters per caller whatever the limit. (A
moving window keeps one timestamp per request allowed: at a partner limit of a million a
minute that is a list of a million entries per partner, copied by the library's expiry
timer every 10 ms.)

In-memory storage is right for one process (``openscore serve``); several workers would
each count on their own, so a deployment with many would point ``limits`` at Redis.
"""

from __future__ import annotations

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from openscore.errors import TooManyRequests


class RateLimits:
    """Named limits (``"sign_in"``, ``"partner"`` ...) checked per key (who is asking)."""

    def __init__(self, limits: dict[str, str]) -> None:
        self._items: dict[str, RateLimitItem] = {name: parse(text) for name, text in limits.items()}
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    def check(self, name: str, key: str) -> None:
        """Count one request by ``key`` against the limit ``name``; raise when over it."""
        item = self._items[name]
        if not self._limiter.hit(item, name, key):
            raise TooManyRequests(f"more than {item} requests; try again later")
