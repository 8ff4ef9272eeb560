"""The member's own records page: every event about them, newest first, with provenance."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from openscore.web.views import event_title

#: Rows on one page; the page links to older ones.
PAGE_SIZE = 100
#: Fields every event has; the rest are the type's own, shown as details.
_ENVELOPE = {"event_id", "type", "member_id", "occurred_at", "source", "schema_version"}


@dataclass(frozen=True, slots=True)
class RecordView:
    occurred_at: dt.datetime
    what: str
    details: str
    source: str
    event_id: str
    received_at: dt.datetime
    channel: str


@dataclass(frozen=True, slots=True)
class RecordsView:
    records: list[RecordView]
    total: int
    page: int
    pages: int


def _details(fields: str) -> str:
    values: dict[str, Any] = orjson.loads(fields) if fields else {}
    shown = [f"{k.replace('_', ' ')}: {v}" for k, v in values.items() if k not in _ENVELOPE]
    return "; ".join(shown)


def records_view(rows: Sequence[Any], page: int) -> RecordsView:
    """One page of a member's events (rows as the ledger returns them, oldest first)."""
    total = len(rows)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    newest_first = list(reversed(rows))
    chosen = newest_first[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return RecordsView(
        [
            RecordView(
                occurred_at=row.occurred_at,
                what=event_title(row.type),
                details=_details(row.fields),
                source=row.source,
                event_id=row.event_id,
                received_at=row.received_at,
                channel=row.channel,
            )
            for row in chosen
        ],
        total,
        page,
        pages,
    )
