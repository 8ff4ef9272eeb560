"""Small hand-made events for ledger tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)


def enrolled(
    member: str, *, event_id: str | None = None, at: dt.datetime = T0, **extra: Any
) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "event_id": event_id or f"enrol-{member}",
        "type": "member_enrolled",
        "member_id": member,
        "occurred_at": at.isoformat(),
        "source": "platform",
        "terms_version": "1.0",
        **extra,
    }


def payment(
    member: str,
    event_id: str,
    *,
    amount: int = 1250,
    at: dt.datetime | None = None,
    source: str = "partner:shop",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "event_id": event_id,
        "type": "payment_made",
        "member_id": member,
        "occurred_at": (at or T0 + dt.timedelta(days=1)).isoformat(),
        "source": source,
        "amount": amount,
        "currency": "EUR",
        "merchant_category": "groceries",
        "channel": "card",
        **extra,
    }


def retraction(
    member: str, event_id: str, target: str, *, source: str = "partner:shop"
) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "event_id": event_id,
        "type": "event_retracted",
        "member_id": member,
        "occurred_at": (T0 + dt.timedelta(days=2)).isoformat(),
        "source": source,
        "retracted_event_id": target,
        "retraction_reason": "reported by mistake",
    }
