"""Rate limits counted in process memory, swept inline rather than by timer threads."""

from __future__ import annotations

import threading

import pytest

from openscore.api import ratelimit
from openscore.api.ratelimit import RateLimits, SweptMemoryStorage
from openscore.errors import TooManyRequests


def test_a_limit_refuses_the_request_past_it_for_that_caller_only() -> None:
    limits = RateLimits({"partner": "3/minute"})
    for _ in range(3):
        limits.check("partner", "bank-a")
    with pytest.raises(TooManyRequests, match="3 per 1 minute"):
        limits.check("partner", "bank-a")
    limits.check("partner", "bank-b")


def test_hits_start_no_threads() -> None:
    # limits' own MemoryStorage starts a timer thread on a hit whenever the last one ended
    # (every 10 ms under load); each start makes the event loop wait for the new thread.
    storage = SweptMemoryStorage()
    storage.timer.join()  # the one its constructor starts
    before = threading.active_count()
    for n in range(50):
        storage.incr(f"key-{n}", 60)
    assert not storage.timer.is_alive()
    assert threading.active_count() == before


def test_expired_counters_are_swept_from_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    storage = SweptMemoryStorage()
    storage.incr("caller", 1)
    clock = {"wall": 1_000.0, "monotonic": 1_000.0}
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock["monotonic"])
    monkeypatch.setattr("limits.storage.memory.time.time", lambda: clock["wall"])
    storage._next_sweep = clock["monotonic"] + ratelimit.SWEEP_SECONDS
    storage.expirations["caller"] = clock["wall"] + 1  # expires a second from now
    clock["wall"] += 2
    storage.incr("other", 60)  # before the sweep is due: the expired counter stays
    assert "caller" in storage.storage
    clock["monotonic"] += ratelimit.SWEEP_SECONDS
    storage.incr("other", 60)
    assert "caller" not in storage.storage
    assert storage.get("other") == 2
