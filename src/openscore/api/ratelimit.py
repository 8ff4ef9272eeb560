"""Rate limits with the ``limits`` library: a moving window per caller, in process memory.

In-memory storage is right for one process (``openscore serve``); several workers would
each count on their own, so a deployment with many would point ``limits`` at Redis.
"""

from __future__ import annotations

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from openscore.errors import TooManyRequests


class RateLimits:
    """Named limits (``"sign_in"``, ``"partner"`` ...) checked per key (who is asking)."""

    def __init__(self, limits: dict[str, str]) -> None:
        self._items: dict[str, RateLimitItem] = {name: parse(text) for name, text in limits.items()}
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def check(self, name: str, key: str) -> None:
        """Count one request by ``key`` against the limit ``name``; raise when over it."""
        item = self._items[name]
        if not self._limiter.hit(item, name, key):
            raise TooManyRequests(f"more than {item} requests; try again later")
