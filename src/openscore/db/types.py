"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An instant, always UTC-aware in Python; ``timestamptz`` on PostgreSQL.

    SQLite has no time zones, so instants are stored there as naive UTC text and given their
    zone back on the way out: the same value comes back whichever store wrote it.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps only UTC instants")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def sqlite_instant(value: dt.datetime) -> str:
    """The text SQLite stores for an instant (what ``UTCDateTime`` would bind), for bulk paths."""
    # isoformat is several times faster than strftime and, with timespec, yields the same text.
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
