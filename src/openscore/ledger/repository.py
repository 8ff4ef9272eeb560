"""Every query the ledger makes. Repositories write in the caller's transaction; never commit."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

import psycopg
from sqlalchemy import Connection, Row, Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from openscore.db.tables import (
    EventRecord,
    ExportWatermark,
    Ingestion,
    Member,
    MemberPersonalData,
    Source,
)
from openscore.db.types import POSTGRES_EPOCH_MICROS, to_micros

events = cast(Table, EventRecord.__table__)
members = cast(Table, Member.__table__)
sources = cast(Table, Source.__table__)
ingestions = cast(Table, Ingestion.__table__)
watermarks = cast(Table, ExportWatermark.__table__)
personal = cast(Table, MemberPersonalData.__table__)

#: Bound on bind parameters per statement (SQLite allows 32,766).
IN_CHUNK = 5_000
#: Any fixed key works: it only has to be the same for every process that appends events.
APPEND_LOCK_KEY = 0x0E5C0DE

#: The columns of a stored row as the ingestion service hands them over (``Prepared[:7]``);
#: received_at and ingestion_id are the same for a whole import and bound once.
INSERT_ROW = ("source", "event_id", "type", "member_id", "occurred_at", "schema_version", "fields")
INSERT_COLUMNS = (*INSERT_ROW, "received_at", "ingestion_id")


_COLUMN_LIST = ", ".join(INSERT_COLUMNS)
_COPY_EVENTS = f"COPY events ({_COLUMN_LIST}) FROM STDIN (FORMAT BINARY)"
COPY_TYPES = ["text", "text", "text", "text", "int8", "int2", "text", "int8", "int8"]


def _chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class LedgerRepository:
    """Queries over sources, members, events and watermarks on one connection."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self._received_at = 0
        self._ingestion_id = 0

    # --- appending ---------------------------------------------------------------------

    def begin_append(self, channel: str, origin: str, now: dt.datetime) -> int:
        """Serialise appenders and record the ingestion; returns its id for provenance.

        Appends must commit in sequence-number order, or the export watermark could pass an
        event that commits later with a smaller number. PostgreSQL takes an advisory lock;
        on SQLite the ingestion row is the first write, which takes the database's write lock.
        """
        if self.dialect == "postgresql":
            self.connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})")
        result = self.connection.execute(
            ingestions.insert()
            .values(channel=channel, origin=origin, started_at=now)
            .returning(ingestions.c.ingestion_id)
        )
        self._ingestion_id = int(result.scalar_one())
        self._received_at = to_micros(now)
        return self._ingestion_id

    def ensure_sources(self, source_ids: Iterable[str], now: dt.datetime) -> None:
        """Register sources seen for the first time; the kind is the id's prefix."""
        rows = [{"source_id": s, "kind": s.split(":")[0], "created_at": now} for s in source_ids]
        if rows:
            self.connection.execute(self._insert(sources).on_conflict_do_nothing(), rows)

    def known_members(self, member_ids: Iterable[str]) -> set[str]:
        ids = sorted(set(member_ids))
        found: set[str] = set()
        for part in _chunks(ids):
            query = select(members.c.member_id).where(members.c.member_id.in_(part))
            found.update(self.connection.execute(query).scalars())
        return found

    def enrol(self, rows: list[dict[str, Any]]) -> None:
        """Apply enrolments to the members projection; a later status change wins."""
        if not rows:
            return
        statement = self._insert(members)
        statement = statement.on_conflict_do_update(
            index_elements=[members.c.member_id],
            set_={
                "status": statement.excluded.status,
                "status_changed_at": statement.excluded.status_changed_at,
                "enrolled_at": statement.excluded.enrolled_at,
                "terms_version": statement.excluded.terms_version,
                "connections_opt_in": statement.excluded.connections_opt_in,
            },
            where=members.c.status_changed_at <= statement.excluded.status_changed_at,
        )
        self.connection.execute(statement, rows)

    def change_networks(self, member_ids: Iterable[str]) -> None:
        """Give these members a fresh network token (their network events changed).

        One random token for the whole change: never reused, so memory read inside a
        transaction that rolls back cannot match a token that is later committed.
        """
        wanted = sorted(set(member_ids))
        token = secrets.randbits(63)
        for part in _chunks(wanted):
            self.connection.execute(
                update(members).where(members.c.member_id.in_(part)).values(network_version=token)
            )

    def record_departures(self, departures: list[tuple[str, dt.datetime]]) -> None:
        for member_id, left_at in departures:
            self.connection.execute(
                update(members)
                .where(members.c.member_id == member_id, members.c.status_changed_at <= left_at)
                .values(status="left", status_changed_at=left_at)
            )

    def stored_content(
        self, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[str, str, int, int, str]]:
        """``Prepared.content`` of the events already stored under (source, event_id) keys."""
        by_source: dict[str, list[str]] = {}
        for source, event_id in keys:
            by_source.setdefault(source, []).append(event_id)
        found: dict[tuple[str, str], tuple[str, str, int, int, str]] = {}
        columns = (events.c.event_id, events.c.type, events.c.member_id, events.c.occurred_at)
        for source, ids in by_source.items():
            for part in _chunks(ids):
                query = select(*columns, events.c.schema_version, events.c.fields).where(
                    events.c.source == source, events.c.event_id.in_(part)
                )
                for row in self.connection.execute(query):
                    content = (row.type, row.member_id, to_micros(row.occurred_at))
                    found[(source, row.event_id)] = (*content, row.schema_version, row.fields)
        return found

    def event_members(self, source: str, event_ids: Sequence[str]) -> dict[str, str]:
        """``event_id → member_id`` for those of a source's events that are stored."""
        found: dict[str, str] = {}
        for part in _chunks(list(event_ids)):
            query = select(events.c.event_id, events.c.member_id).where(
                events.c.source == source, events.c.event_id.in_(part)
            )
            found.update({row.event_id: row.member_id for row in self.connection.execute(query)})
        return found

    def insert_events(self, rows: Sequence[Sequence[Any]], *, all_new: bool = False) -> bool:
        """Append rows of the current ingestion (``INSERT_ROW`` order; instants in microseconds).

        Returns False, having written part of them, when some (source, event_id) is already
        stored or repeats: the caller rolls back to its savepoint and sorts duplicates from
        conflicts. ``all_new`` says the caller has already done that. SQLite takes the rows
        by ``executemany``; PostgreSQL by binary COPY straight into the table, its fastest
        path, which fails as a whole on the first repeated key.
        """
        if not rows:
            return True
        if self.dialect == "sqlite":
            # The two per-import constants are integers we made, safe to write into the SQL.
            sql = (
                f"INSERT INTO events ({', '.join(INSERT_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(INSERT_ROW))}, {self._received_at:d}, "
                f"{self._ingestion_id:d}) ON CONFLICT (source, event_id) DO NOTHING"
            )
            cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.executemany(sql, (row[: len(INSERT_ROW)] for row in rows))
                return bool(cursor.rowcount == len(rows))
            finally:
                cursor.close()
        raw = self.connection.connection.driver_connection
        assert raw is not None
        shift = POSTGRES_EPOCH_MICROS
        received, ingestion = self._received_at - shift, self._ingestion_id
        try:
            with raw.cursor() as cursor, cursor.copy(_COPY_EVENTS) as copy:
                # Binary COPY: a timestamptz travels as int8 microseconds since 2000-01-01,
                # so instants go over as integers, never formatted as text and parsed back.
                copy.set_types(COPY_TYPES)
                for r in rows:
                    copy.write_row(
                        (r[0], r[1], r[2], r[3], r[4] - shift, r[5], r[6], received, ingestion)
                    )
        except psycopg.errors.UniqueViolation:
            if all_new:
                raise
            return False
        return True

    def _insert(self, table: Any) -> Any:
        dialect_module = sqlite if self.dialect == "sqlite" else postgresql
        return dialect_module.insert(table)

    # --- reading -------------------------------------------------------------------------

    def member_events(self, member_id: str) -> list[Row[Any]]:
        """A member's events in time order, with the ingestion that brought each."""
        query = (
            select(events, ingestions.c.channel, ingestions.c.origin)
            .join(ingestions, ingestions.c.ingestion_id == events.c.ingestion_id)
            .where(events.c.member_id == member_id)
            .order_by(events.c.occurred_at, events.c.seq)
        )
        return list(self.connection.execute(query))

    def member(self, member_id: str) -> Row[Any] | None:
        return self.connection.execute(
            select(members).where(members.c.member_id == member_id)
        ).first()

    def counts_by_type(self) -> dict[str, int]:
        query = select(events.c.type, func.count()).group_by(events.c.type).order_by(events.c.type)
        return {row[0]: int(row[1]) for row in self.connection.execute(query)}

    def counts_by_source(self) -> dict[str, int]:
        query = select(events.c.source, func.count()).group_by(events.c.source)
        return {
            row[0]: int(row[1]) for row in self.connection.execute(query.order_by(events.c.source))
        }

    def member_status_counts(self) -> dict[str, int]:
        query = select(members.c.status, func.count()).group_by(members.c.status)
        return {row[0]: int(row[1]) for row in self.connection.execute(query)}

    def event_span(self) -> tuple[dt.datetime | None, dt.datetime | None, int]:
        row = self.connection.execute(
            select(
                func.min(events.c.occurred_at),
                func.max(events.c.occurred_at),
                func.max(events.c.seq),
            )
        ).one()
        return row[0], row[1], int(row[2] or 0)

    # --- export --------------------------------------------------------------------------

    def max_seq(self) -> int:
        return int(
            self.connection.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one()
        )

    def events_between(self, after: int, upto: int, chunk: int) -> Iterator[list[Row[Any]]]:
        """Events with ``after < seq <= upto`` in sequence order, ``chunk`` rows at a time."""
        while after < upto:
            query = (
                select(events)
                .where(events.c.seq > after, events.c.seq <= upto)
                .order_by(events.c.seq)
                .limit(chunk)
            )
            rows = list(self.connection.execute(query))
            if not rows:
                return
            yield rows
            after = rows[-1].seq

    def watermark(self, lake: str) -> int:
        table = watermarks
        value = self.connection.execute(
            select(table.c.last_seq).where(table.c.lake == lake)
        ).scalar_one_or_none()
        return int(value or 0)

    def set_watermark(self, lake: str, last_seq: int, now: dt.datetime) -> None:
        table = watermarks
        statement = self._insert(table).values(lake=lake, last_seq=last_seq, updated_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.lake], set_={"last_seq": last_seq, "updated_at": now}
        )
        self.connection.execute(statement)

    # --- personal data -------------------------------------------------------------------

    def save_personal_data(self, member_id: str, ciphertext: bytes, now: dt.datetime) -> None:
        table = personal
        statement = self._insert(table).values(
            member_id=member_id, ciphertext=ciphertext, updated_at=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.member_id], set_={"ciphertext": ciphertext, "updated_at": now}
        )
        self.connection.execute(statement)

    def personal_data(self, member_id: str) -> bytes | None:
        table = personal
        value = self.connection.execute(
            select(table.c.ciphertext).where(table.c.member_id == member_id)
        ).scalar_one_or_none()
        return bytes(value) if value is not None else None
