"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: PostgreSQL's own epoch, for its binary wire format of timestamps.
POSTGRES_EPOCH_MICROS = 946_684_800_000_000


def to_micros(value: dt.datetime) -> int:
    """An aware instant as integer microseconds since 1970-01-01 UTC (exact)."""
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=micros)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An instant, always UTC-aware in Python.

    PostgreSQL stores ``timestamptz``. SQLite, which has no time type, stores integer
    microseconds since the epoch: exact, ordered, and cheap to write in bulk (the ledger's
    vectorised import never has to format a date as text).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps only UTC instants")
        return to_micros(value) if dialect.name == "sqlite" else value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, int):
            return from_micros(value)
        assert isinstance(value, dt.datetime)
        return value.astimezone(dt.UTC)
